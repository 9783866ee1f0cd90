"""Why a call to a peer failed: unreachable, not speaking OCPI, refused URL, or an OCPI error answer."""

from __future__ import annotations

from evroam.errors import OcpiError

__all__ = [
    "PeerConnectionError",
    "PeerProtocolError",
    "PeerRequestError",
    "PeerResponseError",
    "UrlPolicyError",
]


class PeerRequestError(Exception):
    """A call to a peer did not succeed. Never an OcpiError itself, so it cannot leak into our answers."""

    def __init__(self, message: str, url: str | None = None) -> None:
        self.message = message
        self.url = url
        super().__init__(message)


class UrlPolicyError(PeerRequestError):
    """The URL is refused by the URL policy (scheme, private network, credentials in the URL...)."""


class PeerConnectionError(PeerRequestError):
    """The peer could not be reached, or did not answer in time."""


class PeerProtocolError(PeerRequestError):
    """The peer answered, but not with an OCPI envelope (or followed with a redirect)."""

    def __init__(self, message: str, url: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message, url)
        self.http_status = http_status


class PeerResponseError(PeerRequestError):
    """The peer answered with an OCPI error; `error` is it, mapped onto our own error tree."""

    def __init__(self, error: OcpiError, url: str | None = None) -> None:
        super().__init__(f"peer answered HTTP {error.http_status}, OCPI {error.ocpi_status}: {error.message}", url)
        self.error = error
