"""The Location's local clock: offsets, DST transitions found to the second, cut points, repeated hours."""

from __future__ import annotations

import pytest
from tariff_builders import at

from evroam.tariffs import PricingError
from evroam.tariffs.clock import DAY, HOUR, SECOND, from_us, to_us, zone_clock


def us(text: str) -> int:
    return to_us(at(text))


def test_instants_round_trip_through_microseconds():
    moment = at("2024-03-31 01:00:00.123")
    assert from_us(to_us(moment)) == moment


def test_amsterdam_spring_forward_is_found_to_the_second():
    clock = zone_clock("Europe/Amsterdam")
    segments = clock.segments(us("2024-03-30 12:00"), us("2024-03-31 12:00"))
    assert [(from_us(a), from_us(b), off // HOUR) for a, b, off, _ in segments] == [
        (at("2024-03-30 12:00"), at("2024-03-31 01:00"), 1),
        (at("2024-03-31 01:00"), at("2024-03-31 12:00"), 2),
    ]


def test_lord_howe_shifts_by_30_minutes():
    clock = zone_clock("Australia/Lord_Howe")
    (_, change, before, _), (_, _, after, _) = clock.segments(us("2024-04-06 00:00"), us("2024-04-07 00:00"))
    assert (before - after) == HOUR // 2
    assert from_us(change) == at("2024-04-06 15:00")  # 02:00 LHDT (UTC+11) -> 01:30 LHST (UTC+10:30)


def test_boundaries_include_walls_and_the_transition():
    clock = zone_clock("Europe/Amsterdam")
    found = clock.boundaries(us("2024-10-26 20:00"), us("2024-10-27 04:00"), (0, 2 * HOUR + 30 * 60 * SECOND))
    assert [from_us(t) for t in sorted(found)] == [
        at("2024-10-26 22:00"),  # local midnight (CEST)
        at("2024-10-27 00:30"),  # 02:30 CEST
        at("2024-10-27 01:00"),  # clocks go back
        at("2024-10-27 01:30"),  # 02:30 CET, the second time
        at("2024-10-27 02:00"),  # the end of the repeated hour
    ]


def test_wall_clock_in_the_repeated_hour():
    clock = zone_clock("Europe/Amsterdam")
    second_pass = us("2024-10-27 01:15")  # 02:15 CET, after 02:15 CEST
    assert (clock.wall(second_pass, False) % DAY) // (60 * SECOND) == 2 * 60 + 15
    # first-occurrence reading: the last moment of the first pass
    assert clock.wall(second_pass, True) % DAY == 3 * HOUR - 1


def test_utc_needs_no_zone_data():
    clock = zone_clock("UTC")
    assert clock.fixed
    assert clock.offset(us("2024-06-01 00:00")) == 0


def test_unknown_zone_is_a_pricing_error():
    with pytest.raises(PricingError):
        zone_clock("Not/A_Zone")
