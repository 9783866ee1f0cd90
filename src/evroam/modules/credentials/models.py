"""Credentials module objects (credentials_credentials_object, credentials_credentials_role_class)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from evroam.types import URL, BusinessDetails, CiString2, CiString3, OcpiModel, Role

__all__ = ["Credentials", "CredentialsRole"]

# OCPI 2.2.1 credentials_credentials_object: token is string(64), case-sensitive, printable ASCII;
# 2.3.0 narrows it to non-whitespace ASCII, which every token we issue satisfies.
CredentialsTokenString = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class CredentialsRole(OcpiModel):
    """One role a platform hosts."""

    role: Role
    business_details: BusinessDetails
    party_id: CiString3
    country_code: CiString2


class Credentials(OcpiModel):
    """What a party needs to call the platform that sends this: a token, a versions URL and its roles."""

    token: CredentialsTokenString
    url: URL
    roles: Annotated[list[CredentialsRole], Field(min_length=1)]

    @field_validator("roles")
    @classmethod
    def _unique_roles(cls, roles: list[CredentialsRole]) -> list[CredentialsRole]:
        # OCPI 2.2.1 credentials_credentials_object: each (role, party_id, country_code) is unique.
        seen: set[tuple[str, str, str]] = set()
        for r in roles:
            key = (r.role.value, r.party_id.upper(), r.country_code.upper())
            if key in seen:
                raise ValueError(f"role {key[0]} for {key[2]}-{key[1]} is listed twice")
            seen.add(key)
        return roles
