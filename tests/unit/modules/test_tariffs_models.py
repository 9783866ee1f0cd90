"""Unit tests for the canonical Tariffs models (OCPI 2.2.1 mod_tariffs, 2.3.0 additions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from evroam.modules.locations.models import EnergyMix
from evroam.modules.tariffs.models import (
    DayOfWeek,
    PriceComponent,
    ReservationRestrictionType,
    Tariff,
    TariffDimensionType,
    TariffElement,
    TariffRestrictions,
    TariffType,
    TaxIncluded,
)
from evroam.types import OcpiModel, Price

_TS = "2024-02-01T00:00:00Z"

# --- fixtures (plain dicts; every function returns a fresh copy) -----------------------------------------


def restrictions_full() -> dict[str, Any]:
    return {
        "start_time": "22:00",
        "end_time": "06:30",
        "start_date": "2024-01-01",
        "end_date": "2025-01-01",
        "min_kwh": 5,
        "max_kwh": 80.5,
        "min_current": 6,
        "max_current": 63,
        "min_power": 3.7,
        "max_power": 22,
        "min_duration": 900,
        "max_duration": 14400,
        "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"],
    }


def energy_component() -> dict[str, Any]:
    return {"type": "ENERGY", "price": 0.3125, "vat": 21, "step_size": 1}


def tariff_full() -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "EVR",
        "id": "T-NIGHT",
        "currency": "EUR",
        "type": "PROFILE_CHEAP",
        "tariff_alt_text": [
            {"language": "en", "text": "Night rate, parking billed per quarter hour"},
            {"language": "nl", "text": "Nachttarief, parkeren per kwartier"},
        ],
        "tariff_alt_url": "https://cpo.example.com/tariffs/night",
        "min_price": {"excl_vat": 0.5, "incl_vat": 0.61},
        "max_price": {"excl_vat": 40, "incl_vat": 48.4},
        "preauthorize_amount": 50,
        "elements": [
            {
                "price_components": [
                    {"type": "FLAT", "price": 2, "vat": 21, "step_size": 0},
                    {"type": "TIME", "price": 1.5, "vat": 21, "step_size": 60},
                ],
                "restrictions": {"reservation": "RESERVATION"},
            },
            {
                "price_components": [{"type": "FLAT", "price": 4, "step_size": 0}],
                "restrictions": {"reservation": "RESERVATION_EXPIRES"},
            },
            {
                "price_components": [
                    energy_component(),
                    {"type": "PARKING_TIME", "price": 2.4, "vat": 0, "step_size": 900},
                ],
                "restrictions": restrictions_full(),
            },
            {"price_components": [{"type": "ENERGY", "price": 0.45, "vat": 21, "step_size": 100}]},
        ],
        "tax_included": "NO",
        "start_date_time": "2024-01-01T00:00:00Z",
        "end_date_time": "2025-01-01T00:00:00Z",
        "energy_mix": {
            "is_green_energy": True,
            "energy_sources": [{"source": "WIND", "percentage": 100}],
            "supplier_name": "Polder Stroom",
        },
        "last_updated": _TS,
    }


def tariff_min() -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "ABC",
        "id": "12",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "TIME", "price": 2, "step_size": 300}]}],
        "last_updated": _TS,
    }


EXAMPLES: list[tuple[type[OcpiModel], Callable[[], dict[str, Any]], Callable[[], dict[str, Any]]]] = [
    (Tariff, tariff_full, tariff_min),
    (
        TariffElement,
        lambda: tariff_full()["elements"][2],
        lambda: {"price_components": [{"type": "FLAT", "price": 0, "step_size": 0}]},
    ),
    (PriceComponent, energy_component, lambda: {"type": "PARKING_TIME", "price": 5, "step_size": 300}),
    (TariffRestrictions, restrictions_full, dict),
]
_IDS = [model.__name__ for model, _, _ in EXAMPLES]


def error_locs(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[int | str, ...]]:
    return [tuple(err["loc"]) for err in exc.value.errors()]


def assert_rejected_at(model: type[OcpiModel], data: dict[str, Any], loc: tuple[int | str, ...]) -> None:
    with pytest.raises(ValidationError) as exc:
        model.model_validate(data)
    assert loc in error_locs(exc), f"expected an error at {loc}, got {error_locs(exc)}"


def with_element(element: dict[str, Any]) -> dict[str, Any]:
    return tariff_min() | {"elements": [element]}


# --- complete, minimal, round trip, unknown fields --------------------------------------------------------


@pytest.mark.parametrize(("model", "full", "minimal"), EXAMPLES, ids=_IDS)
def test_complete_example_round_trips_unchanged(
    model: type[OcpiModel], full: Callable[[], dict[str, Any]], minimal: Callable[[], dict[str, Any]]
) -> None:
    assert model.model_validate(full()).to_dict() == full()


@pytest.mark.parametrize(("model", "full", "minimal"), EXAMPLES, ids=_IDS)
def test_minimal_example_round_trips_without_adding_fields(
    model: type[OcpiModel], full: Callable[[], dict[str, Any]], minimal: Callable[[], dict[str, Any]]
) -> None:
    assert model.model_validate(minimal()).to_dict() == minimal()


@pytest.mark.parametrize(("model", "full", "minimal"), EXAMPLES, ids=_IDS)
def test_unknown_fields_are_kept_round_trip(
    model: type[OcpiModel], full: Callable[[], dict[str, Any]], minimal: Callable[[], dict[str, Any]]
) -> None:
    data = minimal() | {"x_vendor": "kept", "x_nested": {"k": [1, "two"]}}
    assert model.model_validate(data).to_dict() == data


def test_unknown_fields_are_kept_in_nested_objects() -> None:
    data = tariff_full()
    data["elements"][2]["x_element"] = 1
    data["elements"][2]["price_components"][0]["x_component"] = "c"
    data["elements"][2]["restrictions"]["x_restriction"] = [True]
    data["min_price"]["x_price"] = "p"
    data["energy_mix"]["x_mix"] = "m"
    assert Tariff.model_validate(data).to_dict() == data


def test_complete_tariff_parses_into_typed_objects() -> None:
    tariff = Tariff.model_validate(tariff_full())
    assert tariff.type is TariffType.PROFILE_CHEAP
    assert tariff.tax_included is TaxIncluded.NO
    assert tariff.min_price == Price(excl_vat=Decimal("0.5"), incl_vat=Decimal("0.61"))
    assert tariff.preauthorize_amount == Decimal(50)
    assert isinstance(tariff.energy_mix, EnergyMix)
    assert tariff.start_date_time == datetime(2024, 1, 1, tzinfo=UTC)
    night = tariff.elements[2]
    assert night.price_components[0].type is TariffDimensionType.ENERGY
    assert night.price_components[0].price == Decimal("0.3125")
    assert night.restrictions is not None
    assert night.restrictions.day_of_week is not None
    assert night.restrictions.day_of_week[0] is DayOfWeek.MONDAY
    assert night.restrictions.min_duration == 900
    reservation = tariff.elements[0].restrictions
    assert reservation is not None
    assert reservation.reservation is ReservationRestrictionType.RESERVATION


def test_to_json_emits_spec_json() -> None:
    raw = Tariff.model_validate(tariff_full()).to_json()
    doc = json.loads(raw)
    assert doc["last_updated"] == "2024-02-01T00:00:00Z"
    component = doc["elements"][2]["price_components"][0]
    assert component == {"type": "ENERGY", "price": 0.3125, "vat": 21, "step_size": 1}
    assert isinstance(doc["min_price"]["incl_vat"], float)
    assert doc["tax_included"] == "NO"


def test_absent_optionals_are_omitted_from_output() -> None:
    out = Tariff.model_validate(tariff_min() | {"type": None, "tariff_alt_text": None}).to_dict()
    assert set(out) == {"country_code", "party_id", "id", "currency", "elements", "last_updated"}


@pytest.mark.parametrize("value", ["absent", None, []], ids=["absent", "null", "empty"])
def test_star_lists_accept_absent_null_and_empty(value: object) -> None:
    data = tariff_min()
    restrictions: dict[str, Any] = {}
    if value != "absent":
        data["tariff_alt_text"] = value
        restrictions["day_of_week"] = value
    data["elements"][0]["restrictions"] = restrictions
    tariff = Tariff.model_validate(data)
    expected = None if value in ("absent", None) else []
    assert tariff.tariff_alt_text == expected
    assert tariff.elements[0].restrictions is not None
    assert tariff.elements[0].restrictions.day_of_week == expected


# --- PriceComponent -----------------------------------------------------------------------------------------


def test_price_component_absent_vat_differs_from_zero_vat() -> None:
    # OCPI 2.2.1 mod_tariffs_pricecomponent_class: no vat = no VAT applicable, which is not 0 % VAT
    no_vat = PriceComponent.model_validate({"type": "FLAT", "price": 1, "step_size": 0})
    zero_vat = PriceComponent.model_validate({"type": "FLAT", "price": 1, "vat": 0.0, "step_size": 0})
    assert no_vat.vat is None
    assert zero_vat.vat == Decimal(0)
    assert zero_vat.vat is not None
    assert "vat" not in no_vat.to_dict()
    assert zero_vat.to_dict()["vat"] == 0
    assert json.loads(zero_vat.to_json())["vat"] == 0


@pytest.mark.parametrize("step_size", [0, 1, 300, 86400])
def test_price_component_step_size_non_negative_int_is_accepted(step_size: int) -> None:
    assert PriceComponent.model_validate(energy_component() | {"step_size": step_size}).step_size == step_size


@pytest.mark.parametrize("step_size", [-1, 1.5, 300.0, "300", True, None])
def test_price_component_step_size_must_be_a_non_negative_int(step_size: object) -> None:
    assert_rejected_at(PriceComponent, energy_component() | {"step_size": step_size}, ("step_size",))


@pytest.mark.parametrize("field", ["type", "price", "step_size"])
def test_price_component_required_field_missing_is_rejected(field: str) -> None:
    data = energy_component()
    del data[field]
    assert_rejected_at(PriceComponent, data, (field,))


def test_price_component_unknown_dimension_is_rejected() -> None:
    assert_rejected_at(PriceComponent, energy_component() | {"type": "SESSION"}, ("type",))
    assert_rejected_at(PriceComponent, energy_component() | {"type": "energy"}, ("type",))


def test_price_component_price_must_be_a_number() -> None:
    assert_rejected_at(PriceComponent, energy_component() | {"price": "cheap"}, ("price",))


def test_price_is_kept_as_exact_decimal() -> None:
    assert PriceComponent.model_validate(energy_component() | {"price": 0.1}).price == Decimal("0.1")
    text = '{"type": "ENERGY", "price": 0.30000000000000004, "vat": 20.5, "step_size": 1}'
    component = PriceComponent.model_validate_json(text)
    assert component.price == Decimal("0.30000000000000004")
    assert component.vat == Decimal("20.5")
    assert PriceComponent.model_validate(energy_component() | {"price": Decimal("0.2599")}).price == Decimal("0.2599")


# --- TariffRestrictions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["start_time", "end_time"])
@pytest.mark.parametrize("value", ["7:00", "24:00", "23:60", "0700", "07:00:00", "", "07.00"])
def test_restriction_time_must_match_pattern(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TariffRestrictions.model_validate({field: value})
    assert error_locs(exc) == [(field,)]


@pytest.mark.parametrize(("start", "end"), [("00:00", "23:59"), ("22:00", "06:00"), ("17:00", "00:00")])
def test_restriction_time_window_may_wrap_midnight(start: str, end: str) -> None:
    # OCPI 2.2.1 mod_tariffs_tariffrestrictions_class: end_time < start_time wraps; 00:00 ends the day
    restrictions = TariffRestrictions.model_validate({"start_time": start, "end_time": end})
    assert (restrictions.start_time, restrictions.end_time) == (start, end)


@pytest.mark.parametrize("field", ["start_date", "end_date"])
@pytest.mark.parametrize(
    "value",
    [
        "2024-13-01",
        "2024-00-10",
        "2024-01-32",
        "24-01-01",
        "3024-01-01",
        "2024/01/01",
        "2024-1-1",
        "2024-01-01T00:00",
    ],
)
def test_restriction_date_must_match_pattern(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TariffRestrictions.model_validate({field: value})
    assert error_locs(exc) == [(field,)]


@pytest.mark.parametrize("value", ["2015-12-24", "1999-01-31", "2099-12-01"])
def test_restriction_date_matching_pattern_is_accepted(value: str) -> None:
    assert TariffRestrictions.model_validate({"start_date": value, "end_date": value}).to_dict() == {
        "start_date": value,
        "end_date": value,
    }


@pytest.mark.parametrize("field", ["min_duration", "max_duration"])
@pytest.mark.parametrize("value", ["1800", 1800.5, 1800.0, False])
def test_restriction_durations_are_ints(field: str, value: object) -> None:
    assert_rejected_at(TariffRestrictions, {field: value}, (field,))


@pytest.mark.parametrize("field", ["min_kwh", "max_kwh", "min_current", "max_current", "min_power", "max_power"])
def test_restriction_numbers_are_exact_decimals(field: str) -> None:
    restrictions = TariffRestrictions.model_validate({field: 11.04})
    assert getattr(restrictions, field) == Decimal("11.04")
    assert_rejected_at(TariffRestrictions, {field: "lots"}, (field,))


def test_restriction_unknown_day_of_week_is_rejected() -> None:
    assert_rejected_at(TariffRestrictions, {"day_of_week": ["MONDAY", "FUNDAY"]}, ("day_of_week", 1))
    assert_rejected_at(TariffRestrictions, {"day_of_week": "MONDAY"}, ("day_of_week",))


def test_restriction_unknown_reservation_type_is_rejected() -> None:
    assert_rejected_at(TariffRestrictions, {"reservation": "BOOKING"}, ("reservation",))


def test_restriction_errors_are_located_inside_the_tariff() -> None:
    data = tariff_full()
    data["elements"][2]["restrictions"]["end_date"] = "2025-02-30x"
    assert_rejected_at(Tariff, data, ("elements", 2, "restrictions", "end_date"))


# --- TariffElement and the reservation rule ---------------------------------------------------------------


@pytest.mark.parametrize("reservation", ["RESERVATION", "RESERVATION_EXPIRES"])
@pytest.mark.parametrize("dimension", ["ENERGY", "PARKING_TIME"])
def test_reservation_element_may_only_hold_flat_and_time(reservation: str, dimension: str) -> None:
    element = {
        "price_components": [
            {"type": "FLAT", "price": 1, "step_size": 0},
            {"type": dimension, "price": 1, "step_size": 1},
        ],
        "restrictions": {"reservation": reservation},
    }
    with pytest.raises(ValidationError) as exc:
        TariffElement.model_validate(element)
    assert error_locs(exc) == [("price_components", 1, "type")]
    assert "FLAT and TIME" in exc.value.errors()[0]["msg"]


def test_reservation_rule_is_located_inside_the_tariff() -> None:
    data = tariff_full()
    data["elements"][1]["price_components"].append(energy_component())
    assert_rejected_at(Tariff, data, ("elements", 1, "price_components", 1, "type"))


def test_reservation_element_with_flat_and_time_is_accepted() -> None:
    element = TariffElement.model_validate(tariff_full()["elements"][0])
    assert [c.type for c in element.price_components] == [TariffDimensionType.FLAT, TariffDimensionType.TIME]


def test_non_reservation_element_may_hold_any_dimension() -> None:
    components = [{"type": t, "price": 1, "step_size": 1} for t in ("FLAT", "ENERGY", "TIME", "PARKING_TIME")]
    element = TariffElement.model_validate({"price_components": components, "restrictions": {"max_power": 22}})
    assert len(element.price_components) == 4


@pytest.mark.parametrize("components", ["absent", None, []], ids=["absent", "null", "empty"])
def test_tariff_element_needs_at_least_one_price_component(components: object) -> None:
    data: dict[str, Any] = {} if components == "absent" else {"price_components": components}
    assert_rejected_at(TariffElement, data, ("price_components",))


# --- Tariff -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("elements", ["absent", None, []], ids=["absent", "null", "empty"])
def test_tariff_needs_at_least_one_element(elements: object) -> None:
    data = tariff_min()
    del data["elements"]
    if elements != "absent":
        data["elements"] = elements
    assert_rejected_at(Tariff, data, ("elements",))


@pytest.mark.parametrize("field", ["country_code", "party_id", "id", "currency", "last_updated"])
def test_tariff_required_field_missing_is_rejected(field: str) -> None:
    data = tariff_min()
    del data[field]
    assert_rejected_at(Tariff, data, (field,))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country_code", "NLD"),
        ("party_id", "EVRM"),
        ("id", "t" * 37),
        ("currency", "EURO"),
        ("currency", "EU"),
        ("tariff_alt_url", "https://x.example/" + "p" * 240),
    ],
)
def test_tariff_string_outside_spec_length_is_rejected(field: str, value: str) -> None:
    assert_rejected_at(Tariff, tariff_min() | {field: value}, (field,))


def test_tariff_alt_text_is_display_text() -> None:
    data = tariff_min() | {"tariff_alt_text": [{"language": "en", "text": "x" * 513}]}
    assert_rejected_at(Tariff, data, ("tariff_alt_text", 0, "text"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 12),
        ("currency", 978),
        ("min_price", 0.5),
        ("min_price", {"incl_vat": 0.6}),
        ("elements", {"price_components": []}),
        ("preauthorize_amount", "fifty"),
        ("energy_mix", {"is_green_energy": "true"}),
    ],
)
def test_tariff_wrong_json_type_is_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        Tariff.model_validate(tariff_min() | {field: value})
    assert any(loc[0] == field for loc in error_locs(exc))


@pytest.mark.parametrize(("field", "value"), [("type", "PROFILE_SLOW"), ("tax_included", "MAYBE")])
def test_tariff_unknown_enum_value_is_rejected(field: str, value: str) -> None:
    assert_rejected_at(Tariff, tariff_min() | {field: value}, (field,))


@pytest.mark.parametrize(
    ("given", "member"),
    [("YES", TaxIncluded.YES), ("NO", TaxIncluded.NO), ("N/A", TaxIncluded.NOT_APPLICABLE)],
)
def test_tariff_tax_included_values(given: str, member: TaxIncluded) -> None:
    tariff = Tariff.model_validate(tariff_min() | {"tax_included": given})
    assert tariff.tax_included is member
    assert tariff.to_dict()["tax_included"] == given


def test_tariff_2_3_0_fields_are_optional() -> None:
    tariff = Tariff.model_validate(tariff_min())
    assert tariff.tax_included is None
    assert tariff.preauthorize_amount is None


@pytest.mark.parametrize("tariff_type", [t.value for t in TariffType])
def test_tariff_type_values(tariff_type: str) -> None:
    assert Tariff.model_validate(tariff_min() | {"type": tariff_type}).type == tariff_type


def test_free_of_charge_tariff_is_a_zero_flat_component() -> None:
    data = with_element({"price_components": [{"type": "FLAT", "price": 0.00, "step_size": 0}]})
    out = Tariff.model_validate(data).to_dict()
    assert out["elements"][0]["price_components"][0] == {"type": "FLAT", "price": 0, "step_size": 0}


@pytest.mark.parametrize(
    ("given", "emitted"),
    [
        ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", "2015-06-29T20:39:09Z"),
        ("2016-12-29T17:45:09.2Z", "2016-12-29T17:45:09.200Z"),
        ("2016-12-29T17:45:09.2", "2016-12-29T17:45:09.200Z"),
        ("2018-01-01T01:08:01.123", "2018-01-01T01:08:01.123Z"),
        ("2018-01-01T01:08:01.123Z", "2018-01-01T01:08:01.123Z"),
    ],
)
def test_all_spec_datetime_forms_are_accepted_and_emitted_in_utc(given: str, emitted: str) -> None:
    tariff = Tariff.model_validate(
        tariff_min() | {"start_date_time": given, "end_date_time": given, "last_updated": given}
    )
    out = tariff.to_dict()
    assert out["start_date_time"] == out["end_date_time"] == out["last_updated"] == emitted
    assert tariff.last_updated.tzinfo is not None


@pytest.mark.parametrize("field", ["start_date_time", "end_date_time", "last_updated"])
def test_tariff_invalid_datetime_is_rejected(field: str) -> None:
    assert_rejected_at(Tariff, tariff_min() | {field: "2024-02-01"}, (field,))


def test_tariff_energy_mix_is_validated_by_the_locations_class() -> None:
    mix = {"is_green_energy": False, "energy_sources": [{"source": "WIND", "percentage": 120}]}
    assert_rejected_at(Tariff, tariff_min() | {"energy_mix": mix}, ("energy_mix", "energy_sources", 0, "percentage"))


# --- the spec's own examples --------------------------------------------------------------------------------

_SPEC_EXAMPLES = Path("/work/shared/ocpi-reference/spec-examples/2.2.1")
# Listed as known errata in ocpi-reference/README.md; these must NOT validate.
_KNOWN_INVALID = {
    "tariff_put_example.json",  # lacks the required last_updated
}


def _tariff_example_files() -> list[str]:
    if not _SPEC_EXAMPLES.is_dir():
        return []
    names = [*_SPEC_EXAMPLES.glob("tariff_*.json"), *_SPEC_EXAMPLES.glob("tariffrestriction_*.json")]
    return sorted(p.name for p in names)


@pytest.mark.parametrize("name", _tariff_example_files() or ["<absent>"])
def test_spec_tariff_examples_validate_and_round_trip(name: str) -> None:
    if not _SPEC_EXAMPLES.is_dir():
        pytest.skip(f"{_SPEC_EXAMPLES} not present")
    data = json.loads((_SPEC_EXAMPLES / name).read_text())
    if name in _KNOWN_INVALID:
        with pytest.raises(ValidationError):
            Tariff.model_validate(data)
        return
    assert Tariff.model_validate(data).to_dict() == data
