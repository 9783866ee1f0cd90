"""How fast a simulated session charges: connector and car limits, a charging profile's limit at a moment
(OCPI 2.2.1 mod_charging_profiles_charging_profile_class), the ActiveChargingProfile planned from it, and
the meter values (CdrDimensionType ENERGY in kWh, POWER in kW) a running session gains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from evroam.modules.cdrs.models import CdrDimensionType, ChargingPeriod
from evroam.modules.chargingprofiles.models import ChargingProfile, ChargingRateUnit
from evroam.modules.locations.models import Connector
from evroam.modules.sessions.models import Session
from evroam.sim.car import Car
from evroam.sim.power import active_profile, charging_watts, connector_watts, gained_kwh, limit_watts, meter, rate_watts

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def connector(power_type: str = "AC_3_PHASE", volts: int = 230, amps: int = 10, **fields: Any) -> Connector:
    return Connector.model_validate(
        {
            "id": "1",
            "standard": "IEC_62196_T2",
            "format": "SOCKET",
            "power_type": power_type,
            "max_voltage": volts,
            "max_amperage": amps,
            "last_updated": "2024-03-01T00:00:00Z",
            **fields,
        }
    )


def profile(*periods: tuple[int, float], unit: str = "W", **fields: Any) -> ChargingProfile:
    return ChargingProfile.model_validate(
        {
            "charging_rate_unit": unit,
            "charging_profile_period": [{"start_period": start, "limit": limit} for start, limit in periods],
            **fields,
        }
    )


def session(*periods: tuple[datetime, str, str], kwh: str = "0", last_updated: datetime = T0) -> Session:
    """A running session; each period is (start, ENERGY kWh, POWER kW)."""
    return Session.model_validate(
        {
            "country_code": "NL",
            "party_id": "CPO",
            "id": "S1",
            "start_date_time": T0,
            "kwh": Decimal(kwh),
            "cdr_token": {
                "country_code": "NL",
                "party_id": "EMS",
                "uid": "012345678",
                "type": "RFID",
                "contract_id": "C1",
            },
            "auth_method": "WHITELIST",
            "location_id": "LOC1",
            "evse_uid": "EVSE1",
            "connector_id": "1",
            "currency": "EUR",
            "charging_periods": [
                {
                    "start_date_time": start,
                    "dimensions": [
                        {"type": "ENERGY", "volume": Decimal(energy)},
                        {"type": "POWER", "volume": Decimal(power)},
                    ],
                }
                for start, energy, power in periods
            ]
            or None,
            "status": "ACTIVE",
            "last_updated": last_updated,
        }
    )


def dimension(period: ChargingPeriod, kind: CdrDimensionType) -> Decimal:
    (value,) = [Decimal(d.volume) for d in period.dimensions if d.type == kind]
    return value


def periods_of(metered: Session) -> list[tuple[datetime, Decimal, Decimal]]:
    return [
        (p.start_date_time, dimension(p, CdrDimensionType.ENERGY), dimension(p, CdrDimensionType.POWER))
        for p in metered.charging_periods or ()
    ]


def planned(*args: Any) -> list[tuple[int, Decimal]]:
    plan = active_profile(*args)
    return [(p.start_period, Decimal(p.limit)) for p in plan.charging_profile.charging_profile_period or ()]


# -- connector_watts -----------------------------------------------------------------------------------------


def test_max_electric_power_wins_over_voltage_times_amperage() -> None:
    assert connector_watts(connector(amps=32, max_electric_power=7400)) == 7400
    assert connector_watts(connector("DC", volts=920, amps=400, max_electric_power=50_000)) == 50_000


def test_a_three_phase_connector_delivers_voltage_times_amperage_on_every_phase() -> None:
    assert connector_watts(connector("AC_3_PHASE", volts=230, amps=10)) == 230 * 10 * 3


def test_a_single_phase_connector_delivers_voltage_times_amperage() -> None:
    assert connector_watts(connector("AC_1_PHASE", volts=230, amps=16)) == 230 * 16


def test_dc_power_is_voltage_times_amperage_without_phases() -> None:
    assert connector_watts(connector("DC", volts=400, amps=125)) == 50_000


def test_ac_power_is_capped_by_the_cars_11_kw_on_board_charger() -> None:
    assert connector_watts(connector("AC_3_PHASE", volts=230, amps=32)) == 11_000
    assert connector_watts(connector("AC_3_PHASE", amps=32, max_electric_power=22_000)) == 11_000


def test_dc_power_is_capped_by_the_cars_100_kw() -> None:
    assert connector_watts(connector("DC", volts=920, amps=400, max_electric_power=150_000)) == 100_000
    assert connector_watts(connector("DC", volts=920, amps=400)) == 100_000


# -- limit_watts ---------------------------------------------------------------------------------------------


def test_a_profile_without_start_date_time_counts_from_the_start_of_the_session() -> None:
    relative = profile((0, 4000), (600, 2000))
    plug = connector()
    assert limit_watts(relative, plug, T0, minutes(5)) == 4000
    assert limit_watts(relative, plug, T0, minutes(10) - timedelta(seconds=1)) == 4000
    assert limit_watts(relative, plug, T0, minutes(10)) == 2000
    # The same profile for a session that started later is still in its first period.
    assert limit_watts(relative, plug, minutes(5), minutes(10)) == 4000


def test_a_profile_with_start_date_time_counts_from_that_moment_not_the_session_start() -> None:
    absolute = profile((0, 4000), (600, 2000), start_date_time="2024-03-01T11:00:00Z")
    plug = connector()
    assert limit_watts(absolute, plug, T0, minutes(60)) == 4000
    assert limit_watts(absolute, plug, T0, minutes(70)) == 2000
    assert limit_watts(absolute, plug, minutes(65), minutes(70)) == 2000


def test_a_profile_sets_no_limit_before_it_starts() -> None:
    absolute = profile((0, 4000), start_date_time="2024-03-01T11:00:00Z")
    assert limit_watts(absolute, connector(), T0, minutes(59)) is None
    assert limit_watts(profile((0, 4000)), connector(), T0, T0 - timedelta(seconds=1)) is None


def test_a_profile_sets_no_limit_from_the_end_of_its_duration() -> None:
    timed = profile((0, 4000), duration=3600)
    assert limit_watts(timed, connector(), T0, minutes(60) - timedelta(seconds=1)) == 4000
    assert limit_watts(timed, connector(), T0, minutes(60)) is None
    assert limit_watts(timed, connector(), T0, minutes(120)) is None


def test_without_duration_the_last_period_continues_indefinitely() -> None:
    assert limit_watts(profile((0, 4000), (600, 2000)), connector(), T0, T0 + timedelta(days=3)) == 2000


def test_the_period_in_force_is_the_last_one_started_whatever_their_order() -> None:
    shuffled = profile((1200, 1000), (0, 4000), (600, 2000))
    plug = connector()
    assert limit_watts(shuffled, plug, T0, minutes(5)) == 4000
    assert limit_watts(shuffled, plug, T0, minutes(15)) == 2000
    assert limit_watts(shuffled, plug, T0, minutes(25)) == 1000


def test_a_profile_whose_first_period_starts_later_sets_no_limit_before_it() -> None:
    late = profile((300, 4000))
    assert limit_watts(late, connector(), T0, minutes(4)) is None
    assert limit_watts(late, connector(), T0, minutes(5)) == 4000


def test_a_profile_without_periods_sets_no_limit() -> None:
    assert limit_watts(ChargingProfile(charging_rate_unit=ChargingRateUnit.W), connector(), T0, minutes(1)) is None


def test_a_limit_in_amperes_counts_every_phase_at_the_connectors_voltage() -> None:
    amps = profile((0, 16), unit="A")
    assert limit_watts(amps, connector("AC_3_PHASE", volts=230), T0, minutes(1)) == 16 * 230 * 3
    assert limit_watts(amps, connector("AC_1_PHASE", volts=230), T0, minutes(1)) == 16 * 230
    assert limit_watts(profile((0, 10.5), unit="A"), connector("AC_1_PHASE", volts=230), T0, minutes(1)) == 2415


def test_a_limit_in_watts_is_the_total_for_all_phases() -> None:
    assert limit_watts(profile((0, 7400)), connector("AC_3_PHASE"), T0, minutes(1)) == 7400


# -- rate_watts ----------------------------------------------------------------------------------------------


def test_without_a_profile_the_session_charges_at_what_the_connector_and_car_allow() -> None:
    assert rate_watts(connector(amps=10), None, T0, minutes(1)) == 6900


def test_a_profile_lowers_the_rate_but_never_raises_it() -> None:
    plug = connector(amps=10)  # 6900 W
    assert rate_watts(plug, profile((0, 4000)), T0, minutes(1)) == 4000
    assert rate_watts(plug, profile((0, 9000)), T0, minutes(1)) == 6900


def test_a_profile_not_in_force_leaves_the_connectors_rate() -> None:
    plug = connector(amps=10)
    later = profile((0, 4000), start_date_time="2024-03-01T11:00:00Z")
    assert rate_watts(plug, later, T0, minutes(30)) == 6900
    assert rate_watts(plug, profile((0, 4000), duration=60), T0, minutes(2)) == 6900


def test_the_rate_is_never_negative() -> None:
    assert rate_watts(connector(), profile((0, 0)), T0, minutes(1)) == 0
    assert rate_watts(connector(), profile((0, -500)), T0, minutes(1)) == 0


# -- active_profile ------------------------------------------------------------------------------------------


def test_the_active_profile_is_in_watts_relative_to_now_for_the_asked_duration() -> None:
    now = minutes(5)
    plan = active_profile(connector(amps=10), profile((0, 16), unit="A"), T0, now, 900)
    assert plan.start_date_time == now
    assert plan.charging_profile.start_date_time == now
    assert plan.charging_profile.duration == 900
    assert plan.charging_profile.charging_rate_unit == ChargingRateUnit.W
    assert [(p.start_period, Decimal(p.limit)) for p in plan.charging_profile.charging_profile_period or ()] == [
        (0, Decimal(6900))
    ]


def test_without_a_profile_the_plan_is_the_connectors_rate_from_now() -> None:
    assert planned(connector(amps=10), None, T0, minutes(5), 900) == [(0, Decimal(6900))]


def test_each_change_of_the_limit_within_the_duration_starts_a_period_counted_from_now() -> None:
    relative = profile((0, 4000), (600, 2000), (1200, 3000))
    assert planned(connector(amps=10), relative, T0, minutes(5), 3600) == [
        (0, Decimal(4000)),
        (300, Decimal(2000)),
        (900, Decimal(3000)),
    ]


def test_changes_after_the_duration_are_left_out() -> None:
    relative = profile((0, 4000), (600, 2000))
    assert planned(connector(amps=10), relative, T0, minutes(5), 300) == [(0, Decimal(4000))]
    assert planned(connector(amps=10), relative, T0, minutes(5), 301) == [(0, Decimal(4000)), (300, Decimal(2000))]


def test_the_plan_starts_with_the_period_already_in_force() -> None:
    relative = profile((0, 4000), (600, 2000))
    assert planned(connector(amps=10), relative, T0, minutes(20), 900) == [(0, Decimal(2000))]


def test_the_connectors_rate_returns_when_the_profile_ends() -> None:
    timed = profile((0, 4000), duration=900)
    assert planned(connector(amps=10), timed, T0, minutes(5), 3600) == [(0, Decimal(4000)), (600, Decimal(6900))]


def test_an_absolute_profile_starting_later_begins_its_period_at_its_start() -> None:
    later = profile((0, 4000), start_date_time="2024-03-01T10:10:00Z")
    assert planned(connector(amps=10), later, T0, T0, 3600) == [(0, Decimal(6900)), (600, Decimal(4000))]


def test_changes_that_leave_the_rate_as_it_was_start_no_new_period() -> None:
    above_the_car = profile((0, 20_000), (600, 15_000), (1200, 11_000))
    assert planned(connector(amps=32), above_the_car, T0, T0, 3600) == [(0, Decimal(11_000))]


def test_a_change_between_whole_seconds_from_now_still_starts_a_period() -> None:
    # Timestamps carry milliseconds: the limit changes 299.7 s from now.
    now = minutes(5) + timedelta(milliseconds=300)
    plan = planned(connector(amps=10), profile((0, 4000), (600, 2000)), T0, now, 900)
    assert [limit for _, limit in plan] == [Decimal(4000), Decimal(2000)]
    assert plan[0][0] == 0
    assert 299 <= plan[1][0] <= 300


# -- meter ---------------------------------------------------------------------------------------------------


def test_the_first_reading_opens_a_period_at_now_with_no_energy_yet() -> None:
    metered = meter(session(), 7400, T0)
    assert periods_of(metered) == [(T0, Decimal(0), Decimal("7.4"))]
    assert metered.kwh == Decimal(0)
    assert metered.last_updated == T0


def test_energy_gained_is_the_last_periods_power_times_the_hours_since_the_last_update() -> None:
    running = session((T0, "0", "7.4"), last_updated=T0)
    metered = meter(running, 7400, minutes(30))
    assert periods_of(metered) == [(T0, Decimal("3.7"), Decimal("7.4"))]
    assert metered.kwh == Decimal("3.7")
    assert metered.last_updated == minutes(30)


def test_energy_is_added_to_what_the_session_and_its_last_period_had() -> None:
    running = session((T0, "1", "11"), (minutes(10), "2", "7.4"), kwh="3", last_updated=minutes(20))
    metered = meter(running, 7400, minutes(50))
    assert periods_of(metered) == [
        (T0, Decimal(1), Decimal(11)),
        (minutes(10), Decimal("5.7"), Decimal("7.4")),
    ]
    assert metered.kwh == Decimal("6.7")


def test_energy_is_rounded_to_a_tenth_of_a_watt_hour() -> None:
    metered = meter(session((T0, "0", "7.4")), 7400, T0 + timedelta(seconds=1))  # 0.00205... kWh
    assert metered.kwh == Decimal("0.0021")
    assert periods_of(metered)[-1][1] == Decimal("0.0021")


def test_a_change_of_power_closes_the_period_and_starts_one_at_now() -> None:
    running = session((T0, "0", "11"), last_updated=T0)
    metered = meter(running, 3700, minutes(6))
    # The 6 minutes before were charged at the old rate: 11 kW * 0.1 h.
    assert periods_of(metered) == [
        (T0, Decimal("1.1"), Decimal(11)),
        (minutes(6), Decimal(0), Decimal("3.7")),
    ]
    assert metered.kwh == Decimal("1.1")
    assert metered.last_updated == minutes(6)


def test_an_unchanged_power_keeps_one_period() -> None:
    metered = meter(meter(session((T0, "0", "11")), 11_000, minutes(6)), 11_000, minutes(12))
    assert periods_of(metered) == [(T0, Decimal("2.2"), Decimal(11))]
    assert metered.kwh == Decimal("2.2")


def test_stopping_starts_a_period_at_zero_power_that_gains_nothing() -> None:
    stopped = meter(session((T0, "0", "11")), 0, minutes(6))
    assert periods_of(stopped)[-1] == (minutes(6), Decimal(0), Decimal(0))
    later = meter(stopped, 0, minutes(60))
    assert later.kwh == Decimal("1.1")
    assert periods_of(later) == periods_of(stopped)


def test_a_clock_behind_the_last_update_gains_no_energy() -> None:
    metered = meter(session((T0, "1", "11"), kwh="1", last_updated=minutes(10)), 11_000, minutes(5))
    assert metered.kwh == Decimal(1)
    assert periods_of(metered) == [(T0, Decimal(1), Decimal(11))]


@pytest.mark.parametrize(("watts", "kw"), [(7400, "7.4"), (22_080, "22.08"), (1, "0.001")])
def test_power_is_recorded_in_kilowatts(watts: int, kw: str) -> None:
    assert periods_of(meter(session(), watts, T0))[-1][2] == Decimal(kw)


# -- charging_watts: what the car takes -----------------------------------------------------------------------


def test_the_session_charges_at_what_the_car_takes_when_that_is_less_than_allowed() -> None:
    fast = connector("DC", volts=920, amps=200, max_electric_power=150_000)
    nearly_full = Car(soc_start=Decimal(80))
    assert charging_watts(fast, None, T0, minutes(5), nearly_full, Decimal(0)) == 45_000
    assert charging_watts(fast, None, T0, T0 + timedelta(seconds=5), Car(), Decimal(0)) == 50_000  # ramping up


def test_a_profile_caps_what_the_car_would_take() -> None:
    fast = connector("DC", volts=920, amps=200, max_electric_power=150_000)
    assert charging_watts(fast, profile((0, 50_000)), T0, minutes(5), Car(), Decimal(0)) == 50_000


def test_a_small_connector_caps_the_car() -> None:
    slow = connector("DC", volts=400, amps=50)  # 20 kW
    assert charging_watts(slow, None, T0, minutes(5), Car(), Decimal(0)) == 20_000


def test_meter_values_carry_the_battery_state_of_charge() -> None:
    car = Car(soc_start=Decimal(50))
    first = meter(session(), 60_000, T0, car)
    assert [(d.type, Decimal(d.volume)) for d in (first.charging_periods or [])[0].dimensions] == [
        (CdrDimensionType.ENERGY, Decimal(0)),
        (CdrDimensionType.POWER, Decimal(60)),
        (CdrDimensionType.STATE_OF_CHARGE, Decimal(50)),
    ]
    later = meter(first, 60_000, minutes(6), car)  # 6 kWh more: 10 % of 60 kWh
    assert dimension((later.charging_periods or [])[-1], CdrDimensionType.STATE_OF_CHARGE) == Decimal(60)
    assert dimension((later.charging_periods or [])[-1], CdrDimensionType.ENERGY) == Decimal(6)


def test_gained_energy_is_what_the_last_period_power_gives_since_the_last_update() -> None:
    assert gained_kwh(session((T0, "0", "11"), last_updated=T0), minutes(6)) == Decimal("1.1")
    assert gained_kwh(session(), minutes(6)) == Decimal(0)
