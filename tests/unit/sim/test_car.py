"""The simulated car: the power it takes by state of charge (ramp, plateau, taper), reported in steps of
5 % of its peak, and its battery's state of charge as it fills."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evroam.sim.car import Car

MID = Car(battery_kwh=Decimal(60), soc_start=Decimal(30), ac_watts=11_000, dc_watts=100_000)


def at_soc(soc: int) -> Car:
    return Car(battery_kwh=Decimal(60), soc_start=Decimal(soc), ac_watts=11_000, dc_watts=100_000)


def test_dc_power_ramps_up_over_the_first_ten_seconds() -> None:
    ramp = [MID.takes_watts(True, Decimal(0), seconds) for seconds in (0, 1, 2.5, 5, 9.9, 10, 60)]
    assert ramp == [5_000, 10_000, 25_000, 50_000, 95_000, 100_000, 100_000]


def test_ac_power_is_full_from_the_start() -> None:
    assert MID.takes_watts(False, Decimal(0), 0) == 11_000


@pytest.mark.parametrize(
    ("soc", "watts"),
    [(0, 75_000), (5, 85_000), (10, 100_000), (54, 100_000), (60, 85_000), (80, 45_000), (90, 25_000), (99, 10_000)],
)
def test_dc_power_follows_the_curve_of_the_battery(soc: int, watts: int) -> None:
    assert at_soc(soc).takes_watts(True, Decimal(0), 600) == watts


@pytest.mark.parametrize(("soc", "watts"), [(10, 11_000), (89, 11_000), (95, 6_600), (99, 2_750)])
def test_ac_power_tapers_only_near_full(soc: int, watts: int) -> None:
    assert at_soc(soc).takes_watts(False, Decimal(0), 600) == watts


def test_power_never_rises_as_the_battery_fills_after_the_ramp() -> None:
    for dc in (True, False):
        powers = [MID.takes_watts(dc, Decimal(kwh), 600) for kwh in range(0, 45)]
        assert powers == sorted(powers, reverse=True)
        assert len(set(powers)) <= 20  # steps of 5 %, not a new value every reading


def test_a_full_battery_takes_nothing() -> None:
    assert MID.takes_watts(True, Decimal(42), 600) == 0  # 30 % + 42 kWh of 60 kWh = 100 %
    assert MID.soc(Decimal(50)) == 100


def test_state_of_charge_grows_with_the_energy_taken() -> None:
    assert MID.soc(Decimal(0)) == Decimal(30)
    assert MID.soc(Decimal(6)) == Decimal(40)
    assert MID.soc(Decimal("0.1")) == Decimal("30.1")


def test_the_car_of_a_session_is_the_same_for_the_same_session() -> None:
    assert Car.arriving("S1") == Car.arriving("S1")
    socs = {Car.arriving(f"S{n}").soc_start for n in range(200)}
    assert min(socs) >= 10
    assert max(socs) <= 80
    assert len(socs) > 30


def test_a_car_survives_being_stored() -> None:
    assert Car.from_dict(MID.to_dict()) == MID
