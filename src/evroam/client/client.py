"""`OcpiClient`: every outbound OCPI call goes through here (auth header, ids, routing, envelope, errors)."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from evroam import __version__
from evroam.client.errors import PeerConnectionError, PeerProtocolError, PeerRequestError, PeerResponseError
from evroam.client.url_policy import UrlPolicy
from evroam.errors import UnauthorizedError, error_for_status
from evroam.transport.auth import authorization_header
from evroam.transport.headers import CORRELATION_ID, REQUEST_ID, RoutingHeaders, new_id

__all__ = ["OcpiClient", "OcpiReply", "retry_after"]

log = logging.getLogger("evroam.client")


def retry_after(value: str | None) -> float | None:
    """Seconds a `Retry-After` header asks to wait (RFC 9110: delay-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True, slots=True)
class OcpiReply:
    """A successful (1xxx) answer of a peer."""

    http_status: int
    status_code: int
    status_message: str | None
    data: Any
    headers: httpx.Headers
    request_id: str
    elapsed_ms: float


class OcpiClient:
    """Calls peers. Redirects are never followed: a peer's URLs come from its version details."""

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        connections: int = 20,
    ) -> None:
        self.policy = policy
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            # Kept open for reuse: as many as are used at once (pushes in flight per peer), so none is
            # closed after each request and opened again for the next.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=connections),
            headers={"User-Agent": f"evroam/{__version__}"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> OcpiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        token: str,
        version: str | None,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        routing: RoutingHeaders | None = None,
        correlation_id: str | None = None,
        request_id: str | None = None,
    ) -> OcpiReply:
        """Send one request; return the reply when the peer answers 1xxx, raise a PeerRequestError otherwise.

        `version` selects the token encoding (raw for 2.1.1 and older, Base64 otherwise); `request_id` the
        X-Request-ID (a new one when not given).
        """
        await self.policy.check_resolved(url)
        request_id = request_id or new_id()
        headers = {
            "Authorization": authorization_header(token, version),
            REQUEST_ID: request_id,
            CORRELATION_ID: correlation_id or new_id(),
        }
        if routing is not None:
            headers.update(routing.as_headers())
        content: bytes | None = None
        if body is not None:
            content = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        try:
            request = self._http.build_request(method, url, headers=headers, content=content, params=params)
        except (httpx.InvalidURL, UnicodeError) as exc:
            # A URL httpx cannot send (control characters, a bad IDNA label) or a header it cannot encode.
            raise PeerRequestError(f"{method} {url[:80]!r} cannot be sent: {exc}", url) from None
        started = time.perf_counter()
        try:
            response = await self._http.send(request)
        except httpx.TimeoutException as exc:
            raise PeerConnectionError(f"{method} {url} timed out ({type(exc).__name__})", url) from None
        except httpx.HTTPError as exc:
            raise PeerConnectionError(f"{method} {url} failed: {type(exc).__name__}: {exc}", url) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        log.debug("%s %s -> %d in %.1f ms (request %s)", method, url, response.status_code, elapsed_ms, request_id)
        return self._reply(method, url, response, request_id, elapsed_ms)

    def _reply(self, method: str, url: str, response: httpx.Response, request_id: str, elapsed_ms: float) -> OcpiReply:
        try:
            return self._read_reply(method, url, response, request_id, elapsed_ms)
        except PeerRequestError as exc:
            exc.retry_after = retry_after(response.headers.get("retry-after"))
            raise

    def _read_reply(
        self, method: str, url: str, response: httpx.Response, request_id: str, elapsed_ms: float
    ) -> OcpiReply:
        if 300 <= response.status_code < 400:
            target = response.headers.get("location", "?")
            raise PeerProtocolError(
                f"{method} {url} answered a redirect to {target}; redirects are not followed "
                "(ask the peer for its final URL)",
                url,
                response.status_code,
            )
        try:
            envelope = response.json()
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, absurd nesting
            envelope = None
        if not isinstance(envelope, dict) or type(envelope.get("status_code")) is not int:
            if response.status_code == 401:
                raise PeerResponseError(UnauthorizedError(f"{method} {url}: HTTP 401 (credentials token refused)"), url)
            raise PeerProtocolError(
                f"{method} {url} answered HTTP {response.status_code} without an OCPI envelope",
                url,
                response.status_code,
            )
        status_code: int = envelope["status_code"]
        message = envelope.get("status_message")
        message = message if isinstance(message, str) else None
        if 1000 <= status_code < 2000 and response.status_code < 400:
            return OcpiReply(
                response.status_code,
                status_code,
                message,
                envelope.get("data"),
                response.headers,
                request_id,
                elapsed_ms,
            )
        error = error_for_status(status_code, message, response.status_code, envelope.get("data"))
        raise PeerResponseError(error, url)
