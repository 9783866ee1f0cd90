"""Versions module objects: the versions list and version details (version_information_endpoint)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from evroam.types import URL, InterfaceRole, OcpiModel, String36

__all__ = ["Endpoint", "Version", "VersionDetails"]


class Version(OcpiModel):
    """One version a platform speaks and where its details are."""

    # VersionNumber / ModuleID are kept as strings: a peer may speak versions or custom modules we do not.
    version: String36
    url: URL


class Endpoint(OcpiModel):
    """One module interface in version details (2.1.1 endpoints have no role)."""

    identifier: String36
    role: InterfaceRole | None = None
    url: URL


class VersionDetails(OcpiModel):
    """The endpoints of one version."""

    version: String36
    endpoints: Annotated[list[Endpoint], Field(min_length=1)]
