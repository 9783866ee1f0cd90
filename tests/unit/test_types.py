"""Unit tests for the OCPI scalar types (types.asciidoc): DateTime, number, CiString/string, OcpiModel."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from evroam.types import (
    URL,
    CiString3,
    CiString36,
    DateTime,
    Number,
    OcpiModel,
    Price,
    String3,
    String100,
    format_datetime,
    parse_datetime,
    utcnow,
)

# --- DateTime: input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The six forms of types_datetime_type: with/without Z, with/without fractional seconds.
        ("2015-06-29T20:39:09Z", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)),
        ("2015-06-29T20:39:09", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)),
        ("2016-12-29T17:45:09.2Z", datetime(2016, 12, 29, 17, 45, 9, 200_000, tzinfo=UTC)),
        ("2016-12-29T17:45:09.2", datetime(2016, 12, 29, 17, 45, 9, 200_000, tzinfo=UTC)),
        ("2018-01-01T01:08:01.123Z", datetime(2018, 1, 1, 1, 8, 1, 123_000, tzinfo=UTC)),
        ("2018-01-01T01:08:01.123", datetime(2018, 1, 1, 1, 8, 1, 123_000, tzinfo=UTC)),
    ],
)
def test_every_spec_datetime_form_parses_to_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("fraction", "micro"),
    [("1", 100_000), ("12", 120_000), ("123", 123_000), ("1234", 123_000), ("12345", 123_000), ("123456", 123_000)],
)
@pytest.mark.parametrize("designator", ["Z", ""])
def test_one_to_six_fraction_digits_are_accepted_and_kept_to_the_millisecond(
    fraction: str, micro: int, designator: str
) -> None:
    parsed = parse_datetime(f"2020-02-29T23:59:59.{fraction}{designator}")
    assert parsed == datetime(2020, 2, 29, 23, 59, 59, micro, tzinfo=UTC)


def test_datetime_without_designator_is_taken_as_utc_not_local_time() -> None:
    assert parse_datetime("2015-06-29T20:39:09") == parse_datetime("2015-06-29T20:39:09Z")


def test_datetime_with_numeric_offset_is_converted_to_utc() -> None:
    assert parse_datetime("2015-06-29T22:39:09+02:00") == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)
    assert parse_datetime("2015-06-29T18:39:09-0200") == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)
    assert parse_datetime("2015-06-29T20:39:09+00:00") == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)


def test_offset_that_crosses_midnight_moves_the_date() -> None:
    assert parse_datetime("2016-01-01T00:30:00+01:00") == datetime(2015, 12, 31, 23, 30, tzinfo=UTC)


def test_python_datetimes_are_normalised_to_utc_milliseconds() -> None:
    cet = timezone(timedelta(hours=1))
    assert parse_datetime(datetime(2020, 1, 1, 1, 0, 0, 123_999, tzinfo=cet)) == datetime(
        2020, 1, 1, 0, 0, 0, 123_000, tzinfo=UTC
    )
    naive = parse_datetime(datetime(2020, 1, 1, 12, 0))
    assert naive == datetime(2020, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2015-02-30T10:00:00Z",  # no 30 February
        "2015-13-01T10:00:00Z",  # month 13
        "2015-06-29T24:00:00Z",  # hour 24
        "2015-06-29T20:60:00Z",  # minute 60
        "0000-01-01T00:00:00Z",  # year 0
    ],
)
def test_impossible_calendar_dates_are_rejected_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid date or time"):
        parse_datetime(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2015-06-29",  # date only
        "20:39:09",  # time only
        "2015-06-29T20:39",  # no seconds
        "2015-6-29T20:39:09Z",  # unpadded month
        "2015-06-29T20:39:09.Z",  # dot without digits
        "2015-06-29T20:39:09ZZ",
        "2015-06-29T20:39:09 UTC",
        "2015-06-29T20:39:09+2",
        "1435610349",
        "\u0662\u0660\u0661\u0665-06-29T20:39:09Z",  # Arabic-Indic digits are not OCPI digits
    ],
)
def test_malformed_datetime_strings_are_rejected_with_an_example_of_the_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"not an OCPI DateTime \(expected e\.g\. 2015-06-29T20:39:09Z\)"):
        parse_datetime(text)


@pytest.mark.parametrize("value", [1435610349, 1435610349.5, None, ["2015-06-29T20:39:09Z"]])
def test_non_string_datetimes_are_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="DateTime must be a string"):
        parse_datetime(value)


@pytest.mark.parametrize("text", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_offset_beyond_the_calendar_range_is_a_value_error_not_a_crash(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid date or time"):
        parse_datetime(text)


# --- DateTime: output -----------------------------------------------------------------------------------

_OUTPUT_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        (datetime(2015, 6, 29, 20, 39, 9, 200_000, tzinfo=UTC), "2015-06-29T20:39:09.200Z"),
        (datetime(2015, 6, 29, 20, 39, 9, 123_456, tzinfo=UTC), "2015-06-29T20:39:09.123Z"),
        (datetime(2015, 6, 29, 20, 39, 9, 999, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        (datetime(2015, 6, 29, 22, 39, 9, tzinfo=timezone(timedelta(hours=2))), "2015-06-29T20:39:09Z"),
        (datetime(2015, 6, 29, 20, 39, 9), "2015-06-29T20:39:09Z"),  # naive is taken as UTC
        (datetime(5, 1, 2, 3, 4, 5, tzinfo=UTC), "0005-01-02T03:04:05Z"),  # years are always 4 digits
    ],
)
def test_datetime_output_is_utc_with_z_and_optional_milliseconds(value: datetime, text: str) -> None:
    out = format_datetime(value)
    assert out == text
    assert len(out) <= 25
    assert "+" not in out


def test_datetime_output_never_exceeds_25_characters_nor_carries_an_offset() -> None:
    samples = [
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, 0, 1_000, tzinfo=timezone(timedelta(hours=-11, minutes=-30))),
        utcnow(),
    ]
    for value in samples:
        out = format_datetime(value)
        assert re.match(_OUTPUT_RE, out), out
        assert len(out) <= 25


@pytest.mark.parametrize(
    "text",
    ["2015-06-29T20:39:09Z", "2015-06-29T20:39:09", "2016-12-29T17:45:09.2Z", "2018-01-01T01:08:01.123"],
)
def test_parse_then_format_round_trips_to_the_canonical_form(text: str) -> None:
    canonical = format_datetime(parse_datetime(text))
    assert parse_datetime(canonical) == parse_datetime(text)
    assert canonical.endswith("Z")


def test_utcnow_is_aware_utc_at_millisecond_precision() -> None:
    now = utcnow()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert now.microsecond % 1000 == 0


class _Stamped(OcpiModel):
    last_updated: DateTime


def test_datetime_field_accepts_every_form_in_a_body_and_emits_z() -> None:
    for text in ("2015-06-29T20:39:09", "2015-06-29T20:39:09.5Z", "2015-06-29T21:39:09+01:00"):
        model = _Stamped.model_validate_json(json.dumps({"last_updated": text}))
        assert model.last_updated.tzinfo is not None
        dumped = json.loads(model.to_json())["last_updated"]
        assert dumped in ("2015-06-29T20:39:09Z", "2015-06-29T20:39:09.500Z")


def test_invalid_datetime_field_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        _Stamped.model_validate({"last_updated": "2015-02-30T10:00:00Z"})
    [error] = info.value.errors()
    assert error["loc"] == ("last_updated",)
    assert "not a valid date or time" in error["msg"]


def test_datetime_json_schema_is_a_string_of_at_most_25() -> None:
    schema = TypeAdapter(DateTime).json_schema()
    assert schema == {"type": "string", "format": "date-time", "maxLength": 25}


# --- number ---------------------------------------------------------------------------------------------


class _Priced(OcpiModel):
    amount: Number
    optional: Number | None = None


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("1.50"), 1.5),
        (Decimal("0.1"), 0.1),
        (Decimal("2"), 2),
        (Decimal("-0.0001"), -0.0001),
        (Decimal("12345.6789"), 12345.6789),
    ],
)
def test_number_is_emitted_as_a_json_number_not_a_string(value: Decimal, wire: float) -> None:
    raw = _Priced(amount=value).to_json()
    parsed = json.loads(raw)["amount"]
    assert isinstance(parsed, int | float)
    assert not isinstance(parsed, bool)
    assert parsed == wire
    assert b'"amount":"' not in raw


def test_number_is_held_as_exact_decimal_on_the_python_side() -> None:
    a = _Priced.model_validate_json('{"amount": 0.1}').amount
    b = _Priced.model_validate_json('{"amount": 0.2}').amount
    assert isinstance(a, Decimal)
    assert a + b == Decimal("0.3")
    assert _Priced.model_validate({"amount": "0.30"}).amount == Decimal("0.30")
    assert _Priced.model_validate({"amount": 7}).amount == Decimal(7)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "abc", None, [1]])
def test_number_rejects_non_finite_and_non_numeric_values(value: Any) -> None:
    with pytest.raises(ValidationError):
        _Priced.model_validate({"amount": value})


def test_number_json_schema_is_number() -> None:
    assert TypeAdapter(Number).json_schema() == {"type": "number"}


def test_price_with_numbers_dumps_numbers_and_omits_absent_incl_vat() -> None:
    price = Price.model_validate({"excl_vat": "1.2345"})
    assert price.to_dict() == {"excl_vat": 1.2345}
    assert json.loads(Price(excl_vat=Decimal("2.00"), incl_vat=Decimal("2.42")).to_json()) == {
        "excl_vat": 2,
        "incl_vat": 2.42,
    }


# --- CiString / string ----------------------------------------------------------------------------------


class _Strings(BaseModel):
    ci: CiString3 | None = None
    ci36: CiString36 | None = None
    s: String3 | None = None
    name: String100 | None = None
    url: URL | None = None


@pytest.mark.parametrize("value", ["", "A", "AB1", "a-b", "~ !"])
def test_cistring_accepts_printable_ascii_up_to_its_length(value: str) -> None:
    assert _Strings(ci=value).ci == value


@pytest.mark.parametrize("value", ["ABCD", "x" * 4])
def test_cistring_longer_than_its_length_is_rejected(value: str) -> None:
    with pytest.raises(ValidationError, match="at most 3 characters"):
        _Strings(ci=value)


def test_cistring_36_fits_a_uuid_and_not_one_more() -> None:
    uuid = "123e4567-e89b-12d3-a456-426614174000"
    assert _Strings(ci36=uuid).ci36 == uuid
    with pytest.raises(ValidationError):
        _Strings(ci36=uuid + "0")


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\tb", "\x00", "a\x7f", "é", "ab\n"])
def test_cistring_rejects_control_characters_and_non_ascii(value: str) -> None:
    with pytest.raises(ValidationError, match="should match pattern"):
        _Strings(ci=value)


@pytest.mark.parametrize("value", ["", "abc", "éàü", "日本語", "a b"])
def test_string_accepts_printable_utf8_up_to_its_length(value: str) -> None:
    assert _Strings(s=value).s == value


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "\tab", "a\x1b", "a\x7f", "a\x85", "ab\n"])
def test_string_rejects_control_characters(value: str) -> None:
    with pytest.raises(ValidationError, match="should match pattern"):
        _Strings(s=value)


def test_string_length_counts_characters_not_bytes() -> None:
    assert _Strings(s="日本語").s == "日本語"  # 9 bytes in UTF-8, 3 characters
    with pytest.raises(ValidationError, match="at most 3 characters"):
        _Strings(s="日本語!")


def test_string100_allows_100_characters_and_rejects_101() -> None:
    assert _Strings(name="n" * 100).name == "n" * 100
    with pytest.raises(ValidationError, match="at most 100 characters"):
        _Strings(name="n" * 101)


def test_url_is_limited_to_255_characters() -> None:
    url = "https://example.com/" + "p" * 235
    assert len(url) == 255
    assert _Strings(url=url).url == url
    with pytest.raises(ValidationError):
        _Strings(url=url + "p")


# --- OcpiModel ------------------------------------------------------------------------------------------


class _Thing(OcpiModel):
    id: CiString36
    name: String100 | None = None
    last_updated: DateTime | None = None


def test_ocpi_model_keeps_unknown_fields_through_a_round_trip() -> None:
    thing = _Thing.model_validate({"id": "T1", "vendor_ext": {"x": [1, 2]}, "flag": True})
    out = json.loads(thing.to_json())
    assert out == {"id": "T1", "vendor_ext": {"x": [1, 2]}, "flag": True}


def test_to_json_omits_none_fields() -> None:
    thing = _Thing(id="T1")
    assert thing.to_json() == b'{"id":"T1"}'
    assert thing.to_dict() == {"id": "T1"}


def test_to_json_emits_datetimes_in_z_form() -> None:
    thing = _Thing(id="T1", last_updated=parse_datetime("2015-06-29T22:39:09.1+02:00"))
    assert json.loads(thing.to_json())["last_updated"] == "2015-06-29T20:39:09.100Z"
    assert thing.to_dict()["last_updated"] == "2015-06-29T20:39:09.100Z"


def test_to_json_is_compact_bytes() -> None:
    raw = _Thing(id="T1", name="x").to_json()
    assert isinstance(raw, bytes)
    assert b" " not in raw
