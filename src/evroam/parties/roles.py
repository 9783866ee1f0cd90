"""The roles table: which module interfaces each market role mounts (terminology#introduction_typical_roles)."""

from __future__ import annotations

from collections.abc import Iterable

from evroam.types import InterfaceRole, ModuleID, Role

__all__ = ["ROLE_INTERFACES", "interfaces_for"]

S, R = InterfaceRole.SENDER, InterfaceRole.RECEIVER
M = ModuleID

_FUNCTIONAL = (M.LOCATIONS, M.SESSIONS, M.CDRS, M.TARIFFS, M.TOKENS, M.COMMANDS, M.CHARGINGPROFILES)

ROLE_INTERFACES: dict[Role, tuple[tuple[ModuleID, InterfaceRole], ...]] = {
    Role.CPO: (
        (M.LOCATIONS, S),
        (M.SESSIONS, S),
        (M.CDRS, S),
        (M.TARIFFS, S),
        (M.TOKENS, R),
        (M.COMMANDS, R),
        (M.CHARGINGPROFILES, R),
        (M.HUBCLIENTINFO, R),
    ),
    Role.EMSP: (
        (M.LOCATIONS, R),
        (M.SESSIONS, R),
        (M.CDRS, R),
        (M.TARIFFS, R),
        (M.TOKENS, S),
        (M.COMMANDS, S),
        (M.CHARGINGPROFILES, S),
        (M.HUBCLIENTINFO, R),
    ),
    Role.HUB: (*((m, i) for m in _FUNCTIONAL for i in (S, R)), (M.HUBCLIENTINFO, S)),
    Role.NSP: ((M.LOCATIONS, R), (M.TARIFFS, R), (M.HUBCLIENTINFO, R)),
    Role.NAP: ((M.LOCATIONS, S), (M.LOCATIONS, R), (M.TARIFFS, S), (M.TARIFFS, R), (M.HUBCLIENTINFO, R)),
    Role.SCSP: ((M.SESSIONS, R), (M.CHARGINGPROFILES, S), (M.HUBCLIENTINFO, R)),
    Role.OTHER: ((M.HUBCLIENTINFO, R),),
}


def interfaces_for(roles: Iterable[Role]) -> list[tuple[ModuleID, InterfaceRole]]:
    """The union of interfaces the given roles mount, in a stable order (one entry per interface)."""
    seen: dict[tuple[ModuleID, InterfaceRole], None] = {}
    for role in roles:
        for entry in ROLE_INTERFACES[role]:
            seen.setdefault(entry, None)
    return list(seen)
