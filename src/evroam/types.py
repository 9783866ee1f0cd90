"""OCPI scalar types (CiString, string, DateTime, number, URL), shared classes and core enums."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

__all__ = [
    "URL",
    "BusinessDetails",
    "CiString2",
    "CiString3",
    "CiString4",
    "CiString5",
    "CiString25",
    "CiString32",
    "CiString36",
    "CiString39",
    "CiString48",
    "DateTime",
    "DisplayText",
    "Image",
    "ImageCategory",
    "InterfaceRole",
    "ModuleID",
    "Number",
    "OcpiModel",
    "Price",
    "Role",
    "String2",
    "String3",
    "String4",
    "String5",
    "String10",
    "String12",
    "String16",
    "String20",
    "String25",
    "String36",
    "String45",
    "String50",
    "String64",
    "String100",
    "String255",
    "String512",
    "String5000",
    "VersionNumber",
    "format_datetime",
    "parse_datetime",
    "utcnow",
]

# OCPI 2.2.1 types: CiString is printable ASCII; string is printable UTF-8. Neither may hold control
# characters (CR, LF, TAB..., and the C1 range such as NEL U+0085). Lengths are maxima.
_CI_PATTERN = r"^[\x20-\x7e]*$"
_STRING_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"


def _ci(n: int) -> StringConstraints:
    return StringConstraints(max_length=n, pattern=_CI_PATTERN)


def _str(n: int) -> StringConstraints:
    return StringConstraints(max_length=n, pattern=_STRING_PATTERN)


# `CiStringN`: case-insensitive printable ASCII of at most N characters; `StringN`: printable UTF-8.
CiString2 = Annotated[str, _ci(2)]
CiString3 = Annotated[str, _ci(3)]
CiString4 = Annotated[str, _ci(4)]
CiString5 = Annotated[str, _ci(5)]
CiString25 = Annotated[str, _ci(25)]
CiString32 = Annotated[str, _ci(32)]
CiString36 = Annotated[str, _ci(36)]
CiString39 = Annotated[str, _ci(39)]
CiString48 = Annotated[str, _ci(48)]
String2 = Annotated[str, _str(2)]
String3 = Annotated[str, _str(3)]
String4 = Annotated[str, _str(4)]
String5 = Annotated[str, _str(5)]
String10 = Annotated[str, _str(10)]
String12 = Annotated[str, _str(12)]
String16 = Annotated[str, _str(16)]
String20 = Annotated[str, _str(20)]
String25 = Annotated[str, _str(25)]
String36 = Annotated[str, _str(36)]
String45 = Annotated[str, _str(45)]
String50 = Annotated[str, _str(50)]
String64 = Annotated[str, _str(64)]
String100 = Annotated[str, _str(100)]
String255 = Annotated[str, _str(255)]
String512 = Annotated[str, _str(512)]
String5000 = Annotated[str, _str(5000)]


# OCPI 2.2.1 types_datetime_type: RFC 3339 subset, always UTC. Accepted on input:
# 2015-06-29T20:39:09Z, 2015-06-29T20:39:09, and both with fractional seconds (any number of digits).
# Numeric offsets are not allowed by the spec; we accept them on input (converted to UTC) because
# rejecting a meaningful timestamp helps nobody, and we never emit them.
# ASCII digits only: `\d` would otherwise also match other scripts' digits, which int() accepts.
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:?\d{2})?$", re.ASCII
)


def parse_datetime(value: object) -> datetime:
    """Parse any OCPI DateTime form into an aware UTC datetime with millisecond precision."""
    if isinstance(value, datetime):
        dt = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        dt = dt.astimezone(UTC)
        return dt.replace(microsecond=dt.microsecond // 1000 * 1000)
    if not isinstance(value, str):
        raise ValueError("DateTime must be a string like 2015-06-29T20:39:09Z")
    m = _DATETIME_RE.match(value.strip())
    if m is None:
        raise ValueError(f"not an OCPI DateTime (expected e.g. 2015-06-29T20:39:09Z): {value[:40]!r}")
    year, month, day, hour, minute, second, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"not a valid date or time: {value[:40]!r}") from exc
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset_minutes = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        try:
            dt -= timedelta(minutes=offset_minutes)
        except OverflowError:
            raise ValueError(f"not a valid date or time: {value[:40]!r}") from None
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def format_datetime(value: datetime) -> str:
    """Emit UTC with `Z`; milliseconds only when non-zero (at most 24 characters, within string(25))."""
    dt = value.astimezone(UTC) if value.tzinfo is not None else value
    # Not strftime: it drops the zero padding of years before 1000 on some platforms.
    base = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    ms = dt.microsecond // 1000
    return f"{base}.{ms:03d}Z" if ms else f"{base}Z"


def utcnow() -> datetime:
    """Now, in UTC, at the millisecond precision every stored timestamp has."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


DateTime = Annotated[
    datetime,
    BeforeValidator(parse_datetime),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 25}),
]
"""An OCPI DateTime: parsed from every spec form, held as aware UTC, emitted as `...Z`."""


def _decimal_to_json(value: Decimal) -> float | int:
    # JSON has one number type; OCPI numbers carry at most a handful of decimals, which a float
    # represents exactly enough to round-trip its shortest text form.
    return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)


Number = Annotated[
    Decimal,
    PlainSerializer(_decimal_to_json, return_type=float | int, when_used="json"),
    WithJsonSchema({"type": "number"}),
]
"""An OCPI `number`, held as Decimal (money and energy never touch binary floats in our rules)."""

URL = Annotated[str, StringConstraints(max_length=255, pattern=_STRING_PATTERN)]
"""An OCPI URL: string(255)."""


class OcpiModel(BaseModel):
    """Base of every OCPI object: unknown fields are kept (a hub forwards vendor extensions intact)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, use_enum_values=False)

    def to_json(self) -> bytes:
        """Serialise as the wire wants it: absent optionals omitted, DateTime in UTC `Z`."""
        return self.model_dump_json(exclude_none=True).encode()

    def to_dict(self) -> dict[str, Any]:
        """The JSON-compatible dict of this object (absent optionals omitted)."""
        return self.model_dump(mode="json", exclude_none=True)


class Role(StrEnum):
    """OCPI 2.2.1 types: market role of a party."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class InterfaceRole(StrEnum):
    """OCPI 2.2.1 version_information_endpoint: which side of a module an endpoint implements."""

    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class ModuleID(StrEnum):
    """OCPI 2.2.1 version_information_endpoint: module identifiers."""

    CDRS = "cdrs"
    CHARGINGPROFILES = "chargingprofiles"
    COMMANDS = "commands"
    CREDENTIALS = "credentials"
    HUBCLIENTINFO = "hubclientinfo"
    LOCATIONS = "locations"
    SESSIONS = "sessions"
    TARIFFS = "tariffs"
    TOKENS = "tokens"


class VersionNumber(StrEnum):
    """OCPI version numbers (2.3.0 adds `2.3.0`)."""

    V2_0 = "2.0"
    V2_1 = "2.1"
    V2_1_1 = "2.1.1"
    V2_2 = "2.2"
    V2_2_1 = "2.2.1"
    V2_3_0 = "2.3.0"


class DisplayText(OcpiModel):
    """Text in one language (ISO 639-1), plain text, no markup."""

    language: String2
    text: String512


class Price(OcpiModel):
    """An amount excluding VAT and, optionally, including VAT (2.2.1 `Price`)."""

    excl_vat: Number
    incl_vat: Number | None = None


class ImageCategory(StrEnum):
    CHARGER = "CHARGER"
    ENTRANCE = "ENTRANCE"
    LOCATION = "LOCATION"
    NETWORK = "NETWORK"
    OPERATOR = "OPERATOR"
    OTHER = "OTHER"
    OWNER = "OWNER"


class Image(OcpiModel):
    """Reference to an image (mod_locations_image_class)."""

    url: URL
    thumbnail: URL | None = None
    category: ImageCategory
    type: CiString4
    width: Annotated[int, Field(ge=0, le=99999)] | None = None
    height: Annotated[int, Field(ge=0, le=99999)] | None = None


class BusinessDetails(OcpiModel):
    """Name, website and logo of a business (mod_locations_businessdetails_class)."""

    name: String100
    website: URL | None = None
    logo: Image | None = None
