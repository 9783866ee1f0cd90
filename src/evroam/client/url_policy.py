"""Which peer-supplied URLs we are willing to call (a guard against SSRF through credentials and endpoints)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from evroam.client.errors import UrlPolicyError

__all__ = ["UrlPolicy"]

_MAX_URL_LENGTH = 255  # OCPI URL is string(255)


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        # Catches what is_private misses, e.g. shared address space 100.64.0.0/10 (some cloud metadata).
        or not address.is_global
    )


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """https only, public addresses only, no credentials inside URLs; relaxed only by configuration.

    `allow_http` and `allow_private` are for local development and closed networks.
    """

    allow_http: bool = False
    allow_private: bool = False

    def check(self, url: str) -> str:
        """Static checks (no DNS). Returns the URL or raises UrlPolicyError saying why."""
        if not isinstance(url, str) or not url:
            raise UrlPolicyError("URL is empty", url)
        if len(url) > _MAX_URL_LENGTH:
            raise UrlPolicyError(f"URL is longer than {_MAX_URL_LENGTH} characters", url[:80])
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise UrlPolicyError(f"URL is malformed: {exc}", url) from None
        if parts.scheme not in ("https", "http"):
            raise UrlPolicyError(f"URL scheme {parts.scheme!r} is not allowed (use https)", url)
        if parts.scheme == "http" and not self.allow_http:
            raise UrlPolicyError("plain http is not allowed for peer URLs (use https, or enable dev mode)", url)
        if parts.username is not None or parts.password is not None:
            raise UrlPolicyError("URLs with user credentials are not allowed", url)
        # A fully qualified name may end in a dot (`localhost.`); it names the same host.
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise UrlPolicyError("URL has no host", url)
        if port == 0:
            raise UrlPolicyError("URL port 0 is not allowed", url)
        if not self.allow_private:
            if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
                raise UrlPolicyError(f"host {host!r} is on a local network (not allowed)", url)
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                return url
            if _is_internal(address):
                raise UrlPolicyError(f"address {host} is private, loopback or reserved (not allowed)", url)
        return url

    async def check_resolved(self, url: str) -> str:
        """`check`, then resolve the host and refuse it if any address it resolves to is internal."""
        self.check(url)
        if self.allow_private:
            return url
        host = urlsplit(url).hostname or ""
        try:
            ipaddress.ip_address(host)
            return url  # an address literal was already checked
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):  # UnicodeError: not encodable as IDNA (e.g. a label > 63 chars)
            return url  # unresolvable: the request itself will fail with a connection error
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if _is_internal(address):
                raise UrlPolicyError(f"host {host!r} resolves to internal address {address} (not allowed)", url)
        return url
