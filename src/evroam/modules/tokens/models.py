"""Canonical OCPI 2.2.1 Tokens models: Token, AuthorizationInfo, LocationReferences and the Tokens enums."""

from __future__ import annotations

from enum import StrEnum

from pydantic import StrictBool

# TokenType (mod_tokens_tokentype_enum, with the 2.3.0 value EMAID) is defined once, in the Locations
# models where PublishTokenType needs it, and re-exported here as part of the Tokens vocabulary. Keeping
# the definition there lets the CDR models use it without importing this module, which itself depends
# on the Sessions (ProfileType) and hence the CDR models.
from evroam.modules.locations.models import TokenType
from evroam.modules.sessions.models import ProfileType
from evroam.types import (
    CiString2,
    CiString3,
    CiString36,
    DateTime,
    DisplayText,
    OcpiModel,
    String2,
    String64,
)

__all__ = [
    "AllowedType",
    "AuthorizationInfo",
    "EnergyContract",
    "LocationReferences",
    "Token",
    "TokenType",
    "WhitelistType",
]


class WhitelistType(StrEnum):
    """When the CPO may authorize a token locally instead of in real time (mod_tokens_whitelisttype_enum)."""

    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class AllowedType(StrEnum):
    """Outcome of a real-time authorization (mod_tokens_allowed_enum)."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class EnergyContract(OcpiModel):
    """The driver's own energy supplier and contract (mod_tokens_energy_contract)."""

    supplier_name: String64
    contract_id: String64 | None = None


class LocationReferences(OcpiModel):
    """Location (and EVSEs) an authorization is asked or granted for (mod_tokens_locationreferences_class)."""

    location_id: CiString36
    evse_uids: list[CiString36] | None = None


class Token(OcpiModel):
    """A token of an eMSP driver, identified by (`uid`, `type`) (mod_tokens_token_object)."""

    country_code: CiString2
    party_id: CiString3
    # OCPI 2.2.1 mod_tokens_token_object: the combination of uid and type is unique within the eMSP,
    # so both are required and neither alone identifies a token.
    uid: CiString36
    type: TokenType
    contract_id: CiString36
    visual_number: String64 | None = None
    issuer: String64
    group_id: CiString36 | None = None
    valid: StrictBool
    whitelist: WhitelistType
    language: String2 | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class AuthorizationInfo(OcpiModel):
    """Answer of the eMSP to a real-time authorization request (mod_tokens_authorizationinfo_object)."""

    allowed: AllowedType
    # OCPI 2.2.1 mod_tokens_authorizationinfo_object: "The complete Token object for which this
    # authorization was requested"; a partial token is rejected by the Token model itself.
    token: Token
    # Only the EVSEs the driver may use at the given location (mod_tokens_authorizationinfo_object).
    location: LocationReferences | None = None
    authorization_reference: CiString36 | None = None
    info: DisplayText | None = None
