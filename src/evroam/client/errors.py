"""Why a call to a peer failed: unreachable, not speaking OCPI, refused URL, or an OCPI error answer."""

from __future__ import annotations

from evroam.errors import OcpiError

__all__ = [
    "PeerConnectionError",
    "PeerProtocolError",
    "PeerRequestError",
    "PeerResponseError",
    "UrlPolicyError",
    "transient",
]


class PeerRequestError(Exception):
    """A call to a peer did not succeed. Never an OcpiError itself, so it cannot leak into our answers."""

    def __init__(self, message: str, url: str | None = None) -> None:
        self.message = message
        self.url = url
        self.retry_after: float | None = None
        """Seconds the peer asked us to wait before trying again (its Retry-After header), if it did."""
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


def transient(exc: PeerRequestError) -> bool:
    """Worth trying again later: the peer was unreachable, timed out, failed on its side (5xx, OCPI 3xxx) or
    asked us to slow down (408, 429). A peer that refused the call (an OCPI 2xxx, another 4xx) or a URL our
    policy refuses will not change its mind."""
    if isinstance(exc, PeerConnectionError):
        return True
    if isinstance(exc, PeerResponseError):
        status = exc.error.http_status
        return status >= 500 or status in (408, 429) or exc.error.ocpi_status >= 3000
    if isinstance(exc, PeerProtocolError):
        return exc.http_status is None or exc.http_status >= 500 or exc.http_status in (408, 429)
    return False
