"""Instants as integer microseconds, and a Location's local wall clock with its DST transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evroam.tariffs.errors import PricingError

__all__ = ["DAY", "HOUR", "SECOND", "ZoneClock", "from_us", "to_us", "zone_clock"]

SECOND = 1_000_000
HOUR = 3600 * SECOND
DAY = 24 * HOUR
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PROBE = 12 * HOUR  # no zone changes its offset twice within 12 hours
_OVERLAP_LOOKBACK = 3 * HOUR  # longer than any repeated stretch when clocks go back
_UTC_NAMES = frozenset({"UTC", "ETC/UTC", "Z", "GMT", "ETC/GMT", "ETC/UCT", "UCT", "ZULU", "ETC/ZULU"})


def to_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime (naive counts as UTC, as OCPI DateTime does)."""
    delta = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * SECOND + delta.microseconds


def from_us(instant: int) -> datetime:
    """The aware UTC datetime of an instant."""
    return _EPOCH + timedelta(microseconds=instant)


class ZoneClock:
    """Local wall-clock time of one IANA time zone, as offsets in microseconds, cached per hour."""

    __slots__ = ("_cache", "_fixed", "_zone", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._cache: dict[int, int] = {}
        self._zone: ZoneInfo | None = None
        self._fixed: int | None = None
        if name.upper() in _UTC_NAMES:
            self._fixed = 0
            return
        try:
            self._zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PricingError(f"unknown time zone {name!r} (expected an IANA name such as Europe/Amsterdam)") from exc

    @property
    def fixed(self) -> bool:
        """True when the offset never changes (UTC), so no DST handling is needed."""
        return self._fixed is not None

    def offset(self, instant: int) -> int:
        """Local time minus UTC at `instant`, in microseconds."""
        if self._fixed is not None:
            return self._fixed
        bucket = instant // HOUR
        cached = self._cache.get(bucket)
        if cached is not None:
            return cached
        first, last = self._exact(bucket * HOUR), self._exact(bucket * HOUR + HOUR - 1)
        if first != last:  # a transition inside this hour: answer exactly, do not cache
            return self._exact(instant)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[bucket] = first
        return first

    def _exact(self, instant: int) -> int:
        offset = from_us(instant).astimezone(self._zone).utcoffset()
        assert offset is not None
        return (offset.days * 86400 + offset.seconds) * SECOND + offset.microseconds

    def _transition(self, low: int, high: int) -> int:
        """The instant in (low, high] where the offset changes to that of `high` (tzdata uses whole seconds)."""
        target = self.offset(high)
        lo, hi = low // SECOND, high // SECOND
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.offset(mid * SECOND) == target:
                hi = mid
            else:
                lo = mid
        return hi * SECOND

    def segments(self, start: int, end: int) -> list[tuple[int, int, int, int]]:
        """Stretches of [start, end) with one offset: (from, to, offset, offset of the stretch before)."""
        offset = self.offset(start)
        if self._fixed is not None:
            return [(start, end, offset, offset)]
        result: list[tuple[int, int, int, int]] = []
        seg_from, previous, probe = start, offset, start
        while probe < end:
            nxt = min(probe + _PROBE, end)
            later = self.offset(nxt - 1)
            if later == offset:
                probe = nxt
                continue
            change = self._transition(probe, nxt - 1)
            result.append((seg_from, change, offset, previous))
            seg_from, previous, offset, probe = change, offset, later, change
        result.append((seg_from, end, offset, previous))
        return result

    def wall(self, instant: int, first_occurrence: bool) -> int:
        """Local wall-clock time of `instant` as microseconds since 1970-01-01 local.

        With `first_occurrence`, an instant in the second pass of a repeated hour reads as the last moment of
        that hour's first pass (see DstOverlap.FIRST_OCCURRENCE).
        """
        offset = self.offset(instant)
        if first_occurrence and self._fixed is None:
            before = self.offset(instant - _OVERLAP_LOOKBACK)
            if before > offset:
                change = self._transition(instant - _OVERLAP_LOOKBACK, instant)
                if instant < change + before - offset:
                    return change + before - 1
        return instant + offset

    def boundaries(self, start: int, end: int, walls: tuple[int, ...]) -> list[int]:
        """Instants strictly inside (start, end) where the wall clock reaches one of `walls` (microseconds
        since local midnight), plus the offset changes and the ends of repeated hours in that stretch."""
        found: list[int] = []
        for seg_from, seg_to, offset, previous in self.segments(start, end):
            if seg_from > start:
                found.append(seg_from)
                repeat_end = seg_from + previous - offset
                if previous > offset and repeat_end < end:
                    found.append(repeat_end)
            first_day, last_day = (seg_from + offset) // DAY, (seg_to - 1 + offset) // DAY
            for day in range(first_day, last_day + 1):
                base = day * DAY - offset
                for wall in walls:
                    instant = base + wall
                    if seg_from <= instant < seg_to and start < instant < end:
                        found.append(instant)
        return found


_CLOCKS: dict[str, ZoneClock] = {}


def zone_clock(name: str) -> ZoneClock:
    """The (shared, cached) clock of an IANA time zone; PricingError when the name is unknown."""
    clock = _CLOCKS.get(name)
    if clock is None:
        clock = _CLOCKS[name] = ZoneClock(name)
    return clock
