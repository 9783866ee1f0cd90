"""Version negotiation: read a peer's versions and version details and pick the highest common version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from evroam.client import OcpiClient, PeerProtocolError
from evroam.modules.versions.models import Endpoint, Version, VersionDetails
from evroam.store.interface import PeerEndpoint
from evroam.transport.validation import validation_message
from evroam.types import ModuleID

__all__ = ["PeerVersion", "discover", "missing_modules", "pick_version", "version_key"]

_VERSIONS = TypeAdapter(list[Version])


def version_key(version: str) -> tuple[int, ...]:
    """Order version strings numerically ("2.2.1" > "2.2" > "2.1.1"); junk sorts lowest."""
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (-1,)


def pick_version(offered: Iterable[str], supported: Iterable[str]) -> str | None:
    """The highest version both sides speak."""
    common = set(offered) & set(supported)
    return max(common, key=version_key) if common else None


@dataclass(frozen=True, slots=True)
class PeerVersion:
    """What discovery found: all versions a peer offers and the details of the chosen one."""

    offered: tuple[str, ...]
    version: str
    endpoints: tuple[PeerEndpoint, ...]

    def endpoint(self, module: str) -> PeerEndpoint | None:
        return next((e for e in self.endpoints if e.identifier == module), None)


async def discover(
    client: OcpiClient,
    versions_url: str,
    token: str,
    supported: Iterable[str],
    *,
    want: str | None = None,
) -> PeerVersion | str:
    """GET the peer's versions, then the details of `want` (or the highest common version).

    Returns the PeerVersion, or — when there is no common version — the list of versions the peer
    offers as a string for the error message. Transport and envelope problems raise PeerRequestError.
    """
    reply = await client.request("GET", versions_url, token=token, version=want)
    try:
        versions = _VERSIONS.validate_python(reply.data)
    except ValidationError as exc:
        raise PeerProtocolError(
            f"versions list at {versions_url} is malformed: {validation_message(exc)}", versions_url
        ) from None
    offered = tuple(v.version for v in versions)
    chosen = want if want in offered else None if want else pick_version(offered, supported)
    if chosen is None:
        return ", ".join(offered) or "none"
    details_url = next(v.url for v in versions if v.version == chosen)
    reply = await client.request("GET", details_url, token=token, version=chosen)
    try:
        details = VersionDetails.model_validate(reply.data)
    except ValidationError as exc:
        raise PeerProtocolError(
            f"version details at {details_url} are malformed: {validation_message(exc)}", details_url
        ) from None
    return PeerVersion(offered, chosen, tuple(_endpoint(e) for e in details.endpoints))


def _endpoint(e: Endpoint) -> PeerEndpoint:
    return PeerEndpoint(e.identifier, e.role.value if e.role is not None else None, e.url)


def missing_modules(found: PeerVersion, required: Iterable[str]) -> list[str]:
    """Required module identifiers the peer does not offer (credentials is always required)."""
    have = {e.identifier for e in found.endpoints}
    needed = [ModuleID.CREDENTIALS.value, *required]
    return [m for m in dict.fromkeys(needed) if m not in have]
