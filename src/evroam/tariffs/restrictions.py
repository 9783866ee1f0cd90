"""When a tariff element applies: TariffRestrictions prepared once, checked at an instant (all ANDed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from evroam.modules.tariffs.models import DayOfWeek, TariffRestrictions
from evroam.tariffs.clock import DAY, HOUR, SECOND

__all__ = ["Conditions", "Point"]

_MINUTE = 60 * SECOND
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# weekday() numbering (MONDAY = 0); 1970-01-01, local day 0, was a Thursday.
_WEEKDAYS = {day: index for index, day in enumerate(DayOfWeek)}
_THURSDAY = 3


def _time_of_day(value: str) -> int:
    # OCPI 2.2.1 mod_tariffs_tariffrestrictions_class: HH:MM, validated by the model's regex.
    return int(value[:2]) * HOUR + int(value[3:5]) * _MINUTE


def _day_number(value: str) -> int:
    return date.fromisoformat(value).toordinal() - _EPOCH_ORDINAL


class Point:
    """What restrictions look at, at one instant: local day and time, energy so far, current and power."""

    __slots__ = ("day", "energy", "max_current", "max_power", "min_current", "min_power", "tod", "weekday")

    def __init__(self, wall: int, energy: Decimal, currents: tuple[Decimal, Decimal, Decimal, Decimal]) -> None:
        self.day, self.tod = divmod(wall, DAY)
        self.weekday = (self.day + _THURSDAY) % 7
        self.energy = energy
        self.min_current, self.max_current, self.min_power, self.max_power = currents


class Conditions:
    """A TariffRestrictions ready for fast checks. Times and dates are local (Location.time_zone)."""

    __slots__ = (
        "always",
        "date_end",
        "date_start",
        "days",
        "durations",
        "electric",
        "kwhs",
        "max_current",
        "max_duration",
        "max_kwh",
        "max_power",
        "min_current",
        "min_duration",
        "min_kwh",
        "min_power",
        "tod_end",
        "tod_start",
        "uses_clock",
        "walls",
        "window_start_day",
        "wraps",
    )

    def __init__(self, restrictions: TariffRestrictions | None, window_start_day: bool) -> None:
        r = restrictions if restrictions is not None else TariffRestrictions()
        self.tod_start: int | None = None
        self.tod_end = DAY
        self.wraps = False
        walls: set[int] = set()
        if r.start_time is not None or r.end_time is not None:
            start = _time_of_day(r.start_time) if r.start_time is not None else 0
            # OCPI 2.2.1 mod_tariffs_tariffrestrictions_class: "To stop at end of the day use: 00:00".
            end = _time_of_day(r.end_time) if r.end_time is not None and r.end_time != "00:00" else DAY
            if not (start == 0 and end == DAY):
                # "If end_time < start_time then the period wraps around to the next day"; equal start and end
                # (other than 00:00-00:00) is read as a whole day starting at start_time.
                self.tod_start, self.tod_end, self.wraps = start, end, end <= start
                walls.update((start, end % DAY))  # an end at 24:00 is the next midnight
        self.days = frozenset(_WEEKDAYS[d] for d in r.day_of_week) if r.day_of_week else None
        # start_date inclusive, end_date exclusive, both local dates.
        self.date_start = _day_number(r.start_date) if r.start_date is not None else None
        self.date_end = _day_number(r.end_date) if r.end_date is not None else None
        self.window_start_day = window_start_day and self.wraps
        if self.days is not None or self.date_start is not None or self.date_end is not None:
            walls.add(0)
        self.uses_clock = self.tod_start is not None or bool(walls)
        self.walls = tuple(sorted(walls))
        # min_* inclusive, max_* exclusive (mod_tariffs_tariffrestrictions_class).
        self.min_kwh, self.max_kwh = r.min_kwh, r.max_kwh
        self.min_current, self.max_current = r.min_current, r.max_current
        self.min_power, self.max_power = r.min_power, r.max_power
        self.min_duration = r.min_duration * SECOND if r.min_duration is not None else None
        self.max_duration = r.max_duration * SECOND if r.max_duration is not None else None
        self.kwhs = tuple(k for k in (r.min_kwh, r.max_kwh) if k is not None)
        self.durations = tuple(d for d in (self.min_duration, self.max_duration) if d is not None)
        self.electric = any(v is not None for v in (r.min_current, r.max_current, r.min_power, r.max_power))
        self.always = not (self.uses_clock or self.kwhs or self.durations or self.electric)

    def holds(self, p: Point, duration: int) -> bool:
        """Whether every restriction holds at `p`, `duration` microseconds into what min/max_duration measure."""
        if self.always:
            return True
        if self.uses_clock:
            day, weekday, start = p.day, p.weekday, self.tod_start
            if start is not None:
                if self.wraps:
                    if p.tod < start:
                        if p.tod >= self.tod_end:
                            return False
                        if self.window_start_day:  # WrappedWindowDay.WINDOW_START: the day the window opened
                            day, weekday = day - 1, (weekday + 6) % 7
                elif not start <= p.tod < self.tod_end:
                    return False
            if self.days is not None and weekday not in self.days:
                return False
            if self.date_start is not None and day < self.date_start:
                return False
            if self.date_end is not None and day >= self.date_end:
                return False
        if self.min_kwh is not None and p.energy < self.min_kwh:
            return False
        if self.max_kwh is not None and p.energy >= self.max_kwh:
            return False
        if self.min_duration is not None and duration < self.min_duration:
            return False
        if self.max_duration is not None and duration >= self.max_duration:
            return False
        # Current and power: the period's values (see periods.Usage for which dimension stands for them).
        if self.min_current is not None and p.min_current < self.min_current:
            return False
        if self.max_current is not None and p.max_current >= self.max_current:
            return False
        if self.min_power is not None and p.min_power < self.min_power:
            return False
        return not (self.max_power is not None and p.max_power >= self.max_power)
