"""Request/correlation ids and routing headers (transport_and_format_unique_messageg_ids, _message_routing)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evroam.errors import StatusCode
from evroam.transport.envelope import envelope_bytes

__all__ = [
    "CORRELATION_ID",
    "REQUEST_ID",
    "RequestIdMiddleware",
    "RoutingHeaders",
    "clean_id",
    "new_id",
]

log = logging.getLogger("evroam.transport")

REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"
_REQUEST_ID_B = REQUEST_ID.lower().encode()
_CORRELATION_ID_B = CORRELATION_ID.lower().encode()
_MAX_ID_LENGTH = 100


def new_id() -> str:
    """A fresh random UUID (version 4), the form the spec advises for both ids.

    Formatted directly from 16 random bytes, as `uuid.uuid4()` would be, at a fraction of its cost:
    one is made for nearly every request."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


# The variant bits (10xx) in the first hex digit of the fourth group.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def clean_id(value: bytes) -> str | None:
    """A received request/correlation id, or None when it is empty, too long or not printable."""
    text = value.decode("latin-1").strip()
    if not text or len(text) > _MAX_ID_LENGTH or not text.isprintable():
        return None
    return text


class RequestIdMiddleware:
    """Echo X-Request-ID and X-Correlation-ID on every response (generating them when absent), and
    answer unhandled errors with a 3000 envelope.

    The ids are also put in `scope["state"]` so handlers and the error handler can log them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = correlation_id = None
        for name, value in scope["headers"]:
            if name == _REQUEST_ID_B:
                request_id = clean_id(value)
            elif name == _CORRELATION_ID_B:
                correlation_id = clean_id(value)
        request_id = request_id or new_id()
        correlation_id = correlation_id or request_id
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["correlation_id"] = correlation_id
        # latin-1, the codec the ids were read with, so the bytes received are the bytes echoed.
        extra = [
            (_REQUEST_ID_B, request_id.encode("latin-1")),
            (_CORRELATION_ID_B, correlation_id.encode("latin-1")),
        ]

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k not in (_REQUEST_ID_B, _CORRELATION_ID_B)]
                message["headers"] = headers + extra
            await send(message)

        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_ids(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            # Last resort: a bug must still be answered with an envelope (3000), never a bare 500 page.
            log.exception("unhandled error on %s %s (request %s)", scope.get("method"), scope.get("path"), request_id)
            if started:
                raise
            body = envelope_bytes(None, StatusCode.SERVER_ERROR, "Internal server error")
            await send_with_ids(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"%d" % len(body)),
                    ],
                }
            )
            await send_with_ids({"type": "http.response.body", "body": body})


@dataclass(frozen=True, slots=True)
class RoutingHeaders:
    """`OCPI-from-*` / `OCPI-to-*`: the parties (not platforms) a functional-module message is between."""

    from_country_code: str | None = None
    from_party_id: str | None = None
    to_country_code: str | None = None
    to_party_id: str | None = None

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RoutingHeaders:
        """Read them from case-insensitive headers (Starlette and httpx header maps both are)."""

        def get(name: str) -> str | None:
            value = headers.get(name)
            return value.strip().upper() if value and value.strip() else None

        return cls(
            get("OCPI-from-country-code"),
            get("OCPI-from-party-id"),
            get("OCPI-to-country-code"),
            get("OCPI-to-party-id"),
        )

    def as_headers(self) -> dict[str, str]:
        """The headers to send (only those that are set)."""
        out: dict[str, str] = {}
        for name, value in (
            ("OCPI-from-country-code", self.from_country_code),
            ("OCPI-from-party-id", self.from_party_id),
            ("OCPI-to-country-code", self.to_country_code),
            ("OCPI-to-party-id", self.to_party_id),
        ):
            if value:
                out[name] = value
        return out

    def reply(self) -> RoutingHeaders:
        """The headers of the response: from and to swapped."""
        return RoutingHeaders(self.to_country_code, self.to_party_id, self.from_country_code, self.from_party_id)
