"""Canonical HubClientInfo models: ClientInfo and ConnectionStatus (OCPI 2.2.1 mod_hub_client_info)."""

from __future__ import annotations

from enum import StrEnum

from evroam.types import CiString2, CiString3, DateTime, OcpiModel, Role

__all__ = ["ClientInfo", "ConnectionStatus"]


class ConnectionStatus(StrEnum):
    """Reachability of a party behind a Hub (mod_hub_client_info_hub_connection_type_enum)."""

    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class ClientInfo(OcpiModel):
    """A party connected to a Hub and its connection status (mod_hub_client_info_hub_client_info_object)."""

    party_id: CiString3
    country_code: CiString2
    role: Role
    status: ConnectionStatus
    last_updated: DateTime
