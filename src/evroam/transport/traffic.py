"""What a node served over OCPI since it started: requests per module, interface and operation, how many
failed, and how long they took (the latest few thousand of each, for percentiles)."""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Final

from starlette.types import Message, Send

from evroam.types import ModuleID

__all__ = ["Traffic", "TrafficRow"]

_KEEP: Final = 2048  # latencies kept per kind of request
_METHODS: Final = frozenset(("GET", "POST", "PUT", "PATCH", "DELETE"))
_MODULES: Final = frozenset(m.value for m in ModuleID)
_INTERFACES: Final = {"sender": "SENDER", "receiver": "RECEIVER"}


@dataclass(frozen=True, slots=True)
class TrafficRow:
    module: str  # an OCPI module id, or "versions"
    interface: str  # SENDER, RECEIVER, or "" (versions, credentials)
    operation: str  # the HTTP method, and what it does when the method alone does not say ("POST authorize")
    requests: int
    failed: int  # answered with HTTP 4xx or 5xx
    p50_ms: float
    p99_ms: float
    max_ms: float

    def to_dict(self) -> dict[str, object]:
        return {
            "module": self.module,
            "interface": self.interface,
            "operation": self.operation,
            "requests": self.requests,
            "failed": self.failed,
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
        }


@dataclass(slots=True)
class _Tally:
    requests: int = 0
    failed: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=_KEEP))


def _kind(path: str, method: str) -> tuple[str, str, str] | None:
    """(module, interface, operation) of an OCPI request path; None for anything else (the back office)."""
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "ocpi":
        return None
    operation = method if method in _METHODS else "OTHER"
    if len(parts) == 3:  # /ocpi/versions, or /ocpi/{version}: the version details
        return "versions", "", operation if parts[2] == "versions" else f"{operation} details"
    if parts[3] == "credentials":
        return "credentials", "", operation
    interface = _INTERFACES.get(parts[3])
    if interface is None or len(parts) < 5:
        return None
    module = parts[4] if parts[4] in _MODULES else "other"
    if parts[-1] == "authorize" and module == ModuleID.TOKENS:
        operation += " authorize"
    return module, interface, operation


class Traffic:
    """Counts the OCPI requests a node answers. Kinds of request are few (bounded by modules, interfaces and
    methods), so whatever peers send cannot grow this without bound."""

    def __init__(self) -> None:
        self.since = time.time()
        self._tallies: dict[tuple[str, str, str], _Tally] = {}

    def counting(self, path: str, method: str, send: Send) -> Send:
        """`send`, counting the response to this request when it is an OCPI one."""
        kind = _kind(path, method)
        if kind is None:
            return send
        started = time.perf_counter()
        status = 500

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.record(kind, status, time.perf_counter() - started)

        return counted

    def record(self, kind: tuple[str, str, str], status: int, seconds: float) -> None:
        tally = self._tallies.get(kind)
        if tally is None:
            tally = self._tallies[kind] = _Tally()
        tally.requests += 1
        tally.failed += status >= 400
        tally.latencies.append(seconds * 1000)

    def rows(self) -> list[TrafficRow]:
        """Every kind of request served, by module, interface and operation."""
        rows = []
        for (module, interface, operation), tally in sorted(self._tallies.items()):
            latencies = sorted(tally.latencies)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            rows.append(
                TrafficRow(
                    module,
                    interface,
                    operation,
                    tally.requests,
                    tally.failed,
                    statistics.median(latencies),
                    p99,
                    latencies[-1],
                )
            )
        return rows
