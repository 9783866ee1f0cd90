"""Canonical Locations models: Location, EVSE, Connector and their classes and enums (OCPI 2.2.1 + 2.3.0)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from evroam.types import (
    URL,
    BusinessDetails,
    CiString2,
    CiString3,
    CiString36,
    CiString48,
    DateTime,
    DisplayText,
    Image,
    Number,
    OcpiModel,
    String4,
    String5,
    String10,
    String12,
    String16,
    String20,
    String45,
    String50,
    String64,
    String255,
)

__all__ = [
    "EVSE",
    "AdditionalGeoLocation",
    "Capability",
    "Connector",
    "ConnectorCapability",
    "ConnectorFormat",
    "ConnectorType",
    "EVSEParking",
    "EVSEPosition",
    "EnergyMix",
    "EnergySource",
    "EnergySourceCategory",
    "EnvironmentalImpact",
    "EnvironmentalImpactCategory",
    "ExceptionalPeriod",
    "Facility",
    "GeoLocation",
    "Hours",
    "Location",
    "Parking",
    "ParkingDirection",
    "ParkingRestriction",
    "ParkingType",
    "PowerType",
    "PublishTokenType",
    "RegularHours",
    "Status",
    "StatusSchedule",
    "TokenType",
    "VehicleType",
]

# Private aliases for lengths evroam.types does not provide (same patterns as types.py).
_CiString = Annotated[str, StringConstraints(pattern=r"^[\x20-\x7e]*$")]
_CiString25 = Annotated[str, StringConstraints(max_length=25, pattern=r"^[\x20-\x7e]*$")]
# OCPI 2.2.1 mod_locations_location_object: `country` is an ISO 3166-1 alpha-3 code, always 3 characters
# (a 2-letter code here is the classic mix-up with country_code).
_CountryAlpha3 = Annotated[str, StringConstraints(min_length=3, max_length=3, pattern=r"^[^\x00-\x1f\x7f]*$")]

# A JSON integer: neither "230" nor true nor 230.0 is accepted where the spec says int.
_Int = Annotated[int, Strict()]

# OCPI 2.2.1 mod_locations_geolocation_class
_LATITUDE_RE = re.compile(r"-?[0-9]{1,2}\.[0-9]{5,7}")
_LONGITUDE_RE = re.compile(r"-?[0-9]{1,3}\.[0-9]{5,7}")
# OCPI 2.2.1 mod_locations_regularhours_class
_TIME_OF_DAY_RE = re.compile(r"([0-1][0-9]|2[0-3]):[0-5][0-9]")


def _rule_error(model: type[OcpiModel], loc: tuple[str | int, ...], message: str, value: object) -> ValidationError:
    """A validation error located at `loc` inside `model` (nested locations are prefixed by pydantic)."""
    return ValidationError.from_exception_data(
        model.__name__,
        [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)],
    )


# --- enums -----------------------------------------------------------------------------------------------


class Capability(StrEnum):
    """Functionality an EVSE is capable of (mod_locations_capability_enum)."""

    CHARGING_PROFILE_CAPABLE = "CHARGING_PROFILE_CAPABLE"
    CHARGING_PREFERENCES_CAPABLE = "CHARGING_PREFERENCES_CAPABLE"
    CHIP_CARD_SUPPORT = "CHIP_CARD_SUPPORT"
    CONTACTLESS_CARD_SUPPORT = "CONTACTLESS_CARD_SUPPORT"
    CREDIT_CARD_PAYABLE = "CREDIT_CARD_PAYABLE"
    DEBIT_CARD_PAYABLE = "DEBIT_CARD_PAYABLE"
    PED_TERMINAL = "PED_TERMINAL"
    REMOTE_START_STOP_CAPABLE = "REMOTE_START_STOP_CAPABLE"
    RESERVABLE = "RESERVABLE"
    RFID_READER = "RFID_READER"
    START_SESSION_CONNECTOR_REQUIRED = "START_SESSION_CONNECTOR_REQUIRED"
    TOKEN_GROUP_CAPABLE = "TOKEN_GROUP_CAPABLE"  # noqa: S105 (an enum value, not a secret)
    UNLOCK_CAPABLE = "UNLOCK_CAPABLE"


class ConnectorCapability(StrEnum):
    """Functionality a Connector supports (2.3.0 mod_locations_connectorcapability_enum)."""

    ISO_15118_2_PLUG_AND_CHARGE = "ISO_15118_2_PLUG_AND_CHARGE"  # 2.3.0
    ISO_15118_20_PLUG_AND_CHARGE = "ISO_15118_20_PLUG_AND_CHARGE"  # 2.3.0


class ConnectorFormat(StrEnum):
    """Whether the connector is a socket or an attached cable (mod_locations_connectorformat_enum)."""

    SOCKET = "SOCKET"
    CABLE = "CABLE"


class ConnectorType(StrEnum):
    """Socket or plug standard of a connector (mod_locations_connectortype_enum)."""

    CHADEMO = "CHADEMO"
    CHAOJI = "CHAOJI"
    DOMESTIC_A = "DOMESTIC_A"
    DOMESTIC_B = "DOMESTIC_B"
    DOMESTIC_C = "DOMESTIC_C"
    DOMESTIC_D = "DOMESTIC_D"
    DOMESTIC_E = "DOMESTIC_E"
    DOMESTIC_F = "DOMESTIC_F"
    DOMESTIC_G = "DOMESTIC_G"
    DOMESTIC_H = "DOMESTIC_H"
    DOMESTIC_I = "DOMESTIC_I"
    DOMESTIC_J = "DOMESTIC_J"
    DOMESTIC_K = "DOMESTIC_K"
    DOMESTIC_L = "DOMESTIC_L"
    DOMESTIC_M = "DOMESTIC_M"
    DOMESTIC_N = "DOMESTIC_N"
    DOMESTIC_O = "DOMESTIC_O"
    GBT_AC = "GBT_AC"
    GBT_DC = "GBT_DC"
    # The spec spells these values with lower-case `single`/`three`.
    IEC_60309_2_single_16 = "IEC_60309_2_single_16"
    IEC_60309_2_three_16 = "IEC_60309_2_three_16"
    IEC_60309_2_three_32 = "IEC_60309_2_three_32"
    IEC_60309_2_three_64 = "IEC_60309_2_three_64"
    IEC_62196_T1 = "IEC_62196_T1"
    IEC_62196_T1_COMBO = "IEC_62196_T1_COMBO"
    IEC_62196_T2 = "IEC_62196_T2"
    IEC_62196_T2_COMBO = "IEC_62196_T2_COMBO"
    IEC_62196_T3A = "IEC_62196_T3A"
    IEC_62196_T3C = "IEC_62196_T3C"
    MCS = "MCS"  # 2.3.0
    NEMA_5_20 = "NEMA_5_20"
    NEMA_6_30 = "NEMA_6_30"
    NEMA_6_50 = "NEMA_6_50"
    NEMA_10_30 = "NEMA_10_30"
    NEMA_10_50 = "NEMA_10_50"
    NEMA_14_30 = "NEMA_14_30"
    NEMA_14_50 = "NEMA_14_50"
    PANTOGRAPH_BOTTOM_UP = "PANTOGRAPH_BOTTOM_UP"
    PANTOGRAPH_TOP_DOWN = "PANTOGRAPH_TOP_DOWN"
    SAE_J3400 = "SAE_J3400"  # 2.3.0
    TESLA_R = "TESLA_R"
    TESLA_S = "TESLA_S"


class EnergySourceCategory(StrEnum):
    """Category of an energy source (mod_locations_energysourcecategory_enum)."""

    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(StrEnum):
    """Category of an environmental impact value (mod_locations_environmentalimpactcategory_enum)."""

    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


class EVSEPosition(StrEnum):
    """Position of an EVSE relative to its parking space (2.3.0 mod_locations_evseposition_enum)."""

    LEFT = "LEFT"  # 2.3.0
    RIGHT = "RIGHT"  # 2.3.0
    CENTER = "CENTER"  # 2.3.0


class Facility(StrEnum):
    """Facility a charging location directly belongs to (mod_locations_facility_enum)."""

    HOTEL = "HOTEL"
    RESTAURANT = "RESTAURANT"
    CAFE = "CAFE"
    MALL = "MALL"
    SUPERMARKET = "SUPERMARKET"
    SPORT = "SPORT"
    RECREATION_AREA = "RECREATION_AREA"
    NATURE = "NATURE"
    MUSEUM = "MUSEUM"
    BIKE_SHARING = "BIKE_SHARING"
    BUS_STOP = "BUS_STOP"
    TAXI_STAND = "TAXI_STAND"
    TRAM_STOP = "TRAM_STOP"
    METRO_STATION = "METRO_STATION"
    TRAIN_STATION = "TRAIN_STATION"
    AIRPORT = "AIRPORT"
    PARKING_LOT = "PARKING_LOT"
    CARPOOL_PARKING = "CARPOOL_PARKING"
    FUEL_STATION = "FUEL_STATION"
    WIFI = "WIFI"


class ParkingDirection(StrEnum):
    """Direction of parking relative to the roadway (2.3.0 mod_locations_parkingdirection_enum)."""

    PARALLEL = "PARALLEL"  # 2.3.0
    PERPENDICULAR = "PERPENDICULAR"  # 2.3.0
    ANGLE = "ANGLE"  # 2.3.0


class ParkingRestriction(StrEnum):
    """Restriction on who may park or charge at an EVSE (mod_locations_parkingrestriction_enum)."""

    EV_ONLY = "EV_ONLY"
    PLUGGED = "PLUGGED"
    DISABLED = "DISABLED"
    CUSTOMERS = "CUSTOMERS"
    MOTORCYCLES = "MOTORCYCLES"
    EMPLOYEES = "EMPLOYEES"  # 2.3.0
    TAXIS = "TAXIS"  # 2.3.0
    TENANTS = "TENANTS"  # 2.3.0


class ParkingType(StrEnum):
    """General type of parking at a location (mod_locations_parkingtype_enum)."""

    ALONG_MOTORWAY = "ALONG_MOTORWAY"
    PARKING_GARAGE = "PARKING_GARAGE"
    PARKING_LOT = "PARKING_LOT"
    ON_DRIVEWAY = "ON_DRIVEWAY"
    ON_STREET = "ON_STREET"
    UNDERGROUND_GARAGE = "UNDERGROUND_GARAGE"


class PowerType(StrEnum):
    """Electrical supply of a connector (mod_locations_powertype_enum)."""

    AC_1_PHASE = "AC_1_PHASE"
    AC_2_PHASE = "AC_2_PHASE"
    AC_2_PHASE_SPLIT = "AC_2_PHASE_SPLIT"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class Status(StrEnum):
    """Status of an EVSE (mod_locations_status_enum)."""

    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    CHARGING = "CHARGING"
    INOPERATIVE = "INOPERATIVE"
    OUTOFORDER = "OUTOFORDER"
    PLANNED = "PLANNED"
    REMOVED = "REMOVED"
    RESERVED = "RESERVED"
    UNKNOWN = "UNKNOWN"


class TokenType(StrEnum):
    """Type of a token, as referenced by PublishTokenType (mod_tokens_tokentype_enum)."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    EMAID = "EMAID"  # 2.3.0
    OTHER = "OTHER"
    RFID = "RFID"


class VehicleType(StrEnum):
    """Vehicle category a parking place accommodates (2.3.0 mod_locations_vehicletype_enum)."""

    MOTORCYCLE = "MOTORCYCLE"  # 2.3.0
    PERSONAL_VEHICLE = "PERSONAL_VEHICLE"  # 2.3.0
    PERSONAL_VEHICLE_WITH_TRAILER = "PERSONAL_VEHICLE_WITH_TRAILER"  # 2.3.0
    VAN = "VAN"  # 2.3.0
    SEMI_TRACTOR = "SEMI_TRACTOR"  # 2.3.0
    RIGID = "RIGID"  # 2.3.0
    TRUCK_WITH_TRAILER = "TRUCK_WITH_TRAILER"  # 2.3.0
    BUS = "BUS"  # 2.3.0
    DISABLED = "DISABLED"  # 2.3.0


# --- classes ---------------------------------------------------------------------------------------------


def _check_latitude(value: str) -> str:
    if not _LATITUDE_RE.fullmatch(value):
        raise ValueError(f"latitude must match -?[0-9]{{1,2}}\\.[0-9]{{5,7}} (e.g. '50.770774'), got {value[:20]!r}")
    return value


def _check_longitude(value: str) -> str:
    if not _LONGITUDE_RE.fullmatch(value):
        raise ValueError(f"longitude must match -?[0-9]{{1,3}}\\.[0-9]{{5,7}} (e.g. '-126.104965'), got {value[:20]!r}")
    return value


def _check_time_of_day(value: str, field: str) -> str:
    if not _TIME_OF_DAY_RE.fullmatch(value):
        raise ValueError(f"{field} must be a 24h local time HH:MM with leading zeros (00:00-23:59), got {value[:20]!r}")
    return value


class GeoLocation(OcpiModel):
    """WGS 84 coordinates of a location or EVSE (mod_locations_geolocation_class)."""

    # The spec types these string(10) / string(11), yet its own regexes allow one character more for a
    # negative value with 7 decimals ("-12.3456789"). The regex is the precise rule, so it alone bounds them.
    latitude: str
    longitude: str

    # OCPI 2.2.1 mod_locations_geolocation_class: latitude regex -?[0-9]{1,2}\.[0-9]{5,7}
    _latitude = field_validator("latitude")(_check_latitude)
    # OCPI 2.2.1 mod_locations_geolocation_class: longitude regex -?[0-9]{1,3}\.[0-9]{5,7}
    _longitude = field_validator("longitude")(_check_longitude)


class AdditionalGeoLocation(OcpiModel):
    """A named related point, e.g. a parking entrance (mod_locations_additionalgeolocation_class)."""

    latitude: str
    longitude: str
    name: DisplayText | None = None

    # OCPI 2.2.1 mod_locations_additionalgeolocation_class: same regexes as GeoLocation
    _latitude = field_validator("latitude")(_check_latitude)
    _longitude = field_validator("longitude")(_check_longitude)


class EnergySource(OcpiModel):
    """Share of one energy source in an energy mix (mod_locations_energysource_class)."""

    source: EnergySourceCategory
    percentage: Number

    @field_validator("percentage")
    @classmethod
    def _percentage_in_range(cls, value: Number) -> Number:
        # OCPI 2.2.1 mod_locations_energysource_class: percentage of this source (0-100) in the mix
        if not 0 <= value <= 100:
            raise ValueError(f"percentage must be between 0 and 100, got {value}")
        return value


class EnvironmentalImpact(OcpiModel):
    """Amount of waste or emission per kWh (mod_locations_environmentalimpact_class)."""

    category: EnvironmentalImpactCategory
    amount: Number


class EnergyMix(OcpiModel):
    """Energy mix and environmental impact of the supplied energy (mod_locations_energymix_class)."""

    is_green_energy: StrictBool
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String64 | None = None
    energy_product_name: String64 | None = None


class ExceptionalPeriod(OcpiModel):
    """One exceptional opening or closing period, in UTC (mod_locations_exceptionalperiod_class)."""

    period_begin: DateTime
    period_end: DateTime


class RegularHours(OcpiModel):
    """A weekday-based recurring opening period in local time (mod_locations_regularhours_class)."""

    weekday: Annotated[_Int, Field(ge=1, le=7)]
    period_begin: String5
    period_end: String5

    @field_validator("period_begin", "period_end")
    @classmethod
    def _time_of_day(cls, value: str, info: ValidationInfo) -> str:
        # OCPI 2.2.1 mod_locations_regularhours_class: regex ([0-1][0-9]|2[0-3]):[0-5][0-9]
        return _check_time_of_day(value, info.field_name or "time")

    @model_validator(mode="after")
    def _end_after_begin(self) -> Self:
        # OCPI 2.2.1 mod_locations_regularhours_class: period_end must be later than period_begin
        if self.period_end <= self.period_begin:
            raise _rule_error(
                type(self),
                ("period_end",),
                f"period_end ({self.period_end}) must be later than period_begin ({self.period_begin})",
                self.period_end,
            )
        return self


class Hours(OcpiModel):
    """Opening and access hours of a location (mod_locations_hours_class)."""

    twentyfourseven: StrictBool
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _regular_hours_when_not_twentyfourseven(self) -> Self:
        # OCPI 2.2.1 mod_locations_hours_class: regular_hours required when not twentyfourseven.
        # With twentyfourseven=true the spec says regular_hours is "only to be used if false"; we accept
        # it (it is harmless and commonly sent) rather than reject a meaningful object.
        if not self.twentyfourseven and not self.regular_hours:
            raise _rule_error(
                type(self),
                ("regular_hours",),
                "regular_hours must hold at least one entry when twentyfourseven is false",
                self.regular_hours,
            )
        return self


class PublishTokenType(OcpiModel):
    """Identifies tokens whose owners may see an unpublished location (mod_locations_publish_token_class)."""

    uid: CiString36 | None = None
    type: TokenType | None = None
    visual_number: String64 | None = None
    issuer: String64 | None = None
    group_id: CiString36 | None = None

    @model_validator(mode="after")
    def _identifying_fields(self) -> Self:
        # OCPI 2.2.1 mod_locations_publish_token_class: at least one of uid, visual_number or group_id
        # SHALL be set; uid requires type; visual_number requires issuer.
        if self.uid is None and self.visual_number is None and self.group_id is None:
            raise _rule_error(type(self), ("uid",), "at least one of uid, visual_number or group_id must be set", None)
        if self.uid is not None and self.type is None:
            raise _rule_error(type(self), ("type",), "type must be set when uid is set", None)
        if self.visual_number is not None and self.issuer is None:
            raise _rule_error(type(self), ("issuer",), "issuer must be set when visual_number is set", None)
        return self


class StatusSchedule(OcpiModel):
    """A planned future status of an EVSE, informational only (mod_locations_statusschedule_class)."""

    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status


class EVSEParking(OcpiModel):
    """Link from an EVSE to a Parking of its Location (2.3.0 mod_locations_evseparking_class)."""

    parking_id: CiString36
    evse_position: EVSEPosition | None = None


class Parking(OcpiModel):
    """A parking space usable while charging (2.3.0 mod_locations_parking_object)."""

    id: CiString36
    physical_reference: String12 | None = None
    vehicle_types: list[VehicleType] = Field(min_length=1)
    max_vehicle_weight: Number | None = None
    max_vehicle_height: Number | None = None
    max_vehicle_length: Number | None = None
    max_vehicle_width: Number | None = None
    parking_space_length: Number | None = None
    parking_space_width: Number | None = None
    dangerous_goods_allowed: StrictBool | None = None
    direction: ParkingDirection | None = None
    drive_through: StrictBool | None = None
    restricted_to_type: StrictBool
    reservation_required: StrictBool
    time_limit: Number | None = None
    roofed: StrictBool | None = None
    images: list[Image] | None = None
    lighting: StrictBool | None = None
    refrigeration_outlet: StrictBool | None = None
    standards: list[CiString36] | None = None
    apds_reference: _CiString | None = None


class Connector(OcpiModel):
    """A socket or cable-and-plug of an EVSE (mod_locations_connector_object)."""

    id: CiString36
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: _Int
    max_amperage: _Int
    max_electric_power: _Int | None = None
    tariff_ids: list[CiString36] | None = None
    terms_and_conditions: URL | None = None
    capabilities: list[ConnectorCapability] | None = None  # 2.3.0
    last_updated: DateTime


class EVSE(OcpiModel):
    """The part that powers a single EV in a single session (mod_locations_evse_object)."""

    uid: CiString36
    evse_id: CiString48 | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    # OCPI 2.2.1 mod_locations_evse_object: connectors cardinality `+` (at least one)
    connectors: list[Connector] = Field(min_length=1)
    floor_level: String4 | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String16 | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    parking: list[EVSEParking] | None = None  # 2.3.0
    images: list[Image] | None = None
    accepted_service_providers: list[String50] | None = None  # 2.3.0
    last_updated: DateTime

    @model_validator(mode="after")
    def _connector_ids_unique(self) -> Self:
        # OCPI 2.2.1 mod_locations_connector_object: two Connectors may share an id only when they belong
        # to different EVSEs (ids are CiString, so compared case-insensitively).
        seen: set[str] = set()
        for index, connector in enumerate(self.connectors):
            key = connector.id.casefold()
            if key in seen:
                raise _rule_error(
                    type(self),
                    ("connectors", index, "id"),
                    f"connector id {connector.id!r} occurs more than once in this EVSE",
                    connector.id,
                )
            seen.add(key)
        return self


class Location(OcpiModel):
    """A group of EVSEs installed together, with address and properties (mod_locations_location_object)."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    publish: StrictBool
    publish_allowed_to: list[PublishTokenType] | None = None
    name: String255 | None = None
    address: String45
    city: String45
    postal_code: String10 | None = None
    state: String20 | None = None
    country: _CountryAlpha3
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    parking_places: list[Parking] | None = None  # 2.3.0
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String255
    opening_times: Hours | None = None
    # Absent means true (OCPI 2.2.1 mod_locations_location_object: "Default: true"); kept absent as sent.
    charging_when_closed: StrictBool | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    help_phone: _CiString25 | None = None  # 2.3.0
    last_updated: DateTime

    @model_validator(mode="after")
    def _location_rules(self) -> Self:
        # OCPI 2.2.1 mod_locations_location_object: publish_allowed_to may only be used when publish is false.
        if self.publish and self.publish_allowed_to:
            raise _rule_error(
                type(self),
                ("publish_allowed_to",),
                "publish_allowed_to may only be used when publish is false",
                None,
            )
        # OCPI 2.2.1 mod_locations_evse_object: uid is unique within the CPO platform, so within a Location.
        seen: set[str] = set()
        for index, evse in enumerate(self.evses or ()):
            key = evse.uid.casefold()
            if key in seen:
                raise _rule_error(
                    type(self),
                    ("evses", index, "uid"),
                    f"EVSE uid {evse.uid!r} occurs more than once",
                    evse.uid,
                )
            seen.add(key)
        # OCPI 2.3.0 mod_locations_parking_object: Parking.id MUST be unique within the Location.
        parking_ids: set[str] = set()
        for index, parking in enumerate(self.parking_places or ()):
            key = parking.id.casefold()
            if key in parking_ids:
                raise _rule_error(
                    type(self),
                    ("parking_places", index, "id"),
                    f"parking id {parking.id!r} occurs more than once",
                    parking.id,
                )
            parking_ids.add(key)
        return self
