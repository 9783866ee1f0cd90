"""The OCPI response envelope: `data`, `status_code`, `status_message`, `timestamp` on every response."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from evroam.errors import StatusCode
from evroam.types import OcpiModel, _decimal_to_json, format_datetime

__all__ = ["OcpiResponse", "dump_data", "envelope_bytes", "envelope_head", "envelope_tail", "finish_envelope"]

JSON_MEDIA_TYPE = "application/json"


def dump_data(data: Any) -> bytes:
    """Serialise response data once: models as wire JSON (absent optionals omitted), lists of them too."""
    if isinstance(data, OcpiModel):
        return data.to_json()
    if isinstance(data, BaseModel):
        return data.model_dump_json(exclude_none=True).encode()
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return b"[" + b",".join(dump_data(item) for item in data) + b"]"
    return json.dumps(data, separators=(",", ":"), default=_json_default).encode()


def _json_default(value: Any) -> Any:
    # Plain dicts may hold the same values models do; give them the same wire form (DateTime as `...Z`,
    # number as a JSON number), not their str().
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, Decimal):
        return _decimal_to_json(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return str(value)


def envelope_head(
    data_json: bytes | None,
    status_code: int = StatusCode.SUCCESS,
    status_message: str | None = None,
) -> bytes:
    """The envelope around already-serialised data, up to the `timestamp` value (`finish_envelope`)."""
    parts = [b"{"]
    if data_json is not None:
        parts += [b'"data":', data_json, b","]
    parts.append(b'"status_code":%d,' % int(status_code))
    if status_message is not None:
        parts += [b'"status_message":', json.dumps(status_message).encode(), b","]
    parts.append(b'"timestamp":"')
    return b"".join(parts)


def finish_envelope(head: bytes) -> bytes:
    """`head` completed with the timestamp of now (when the message is sent)."""
    return head + envelope_tail()


_tail_cache: tuple[int, bytes] = (-1, b"")


def envelope_tail() -> bytes:
    """The timestamp of now and the envelope's end; made once per millisecond (the precision emitted)."""
    global _tail_cache
    now_ns = time.time_ns()
    millisecond = now_ns // 1_000_000
    if _tail_cache[0] != millisecond:
        seconds, ms = divmod(millisecond, 1000)
        now = datetime.fromtimestamp(seconds, UTC).replace(microsecond=ms * 1000)
        _tail_cache = (millisecond, format_datetime(now).encode() + b'"}')
    return _tail_cache[1]


def envelope_bytes(
    data_json: bytes | None,
    status_code: int = StatusCode.SUCCESS,
    status_message: str | None = None,
) -> bytes:
    """Assemble the envelope around already-serialised data (lists are streamed in as bytes)."""
    return finish_envelope(envelope_head(data_json, status_code, status_message))


class OcpiResponse(Response):
    """A JSON response whose body is an OCPI envelope."""

    media_type = JSON_MEDIA_TYPE

    def __init__(
        self,
        data: Any = None,
        *,
        status_code: int = StatusCode.SUCCESS,
        status_message: str | None = None,
        http_status: int = 200,
        headers: Mapping[str, str] | None = None,
        data_json: bytes | None = None,
        head: bytes | None = None,
    ) -> None:
        """`head` (from `envelope_head`) is the envelope already assembled, for bodies kept to be sent again."""
        if head is None:
            if data_json is None and data is not None:
                data_json = dump_data(data)
            head = envelope_head(data_json, status_code, status_message)
        body = finish_envelope(head)
        super().__init__(content=body, status_code=http_status, headers=headers, media_type=JSON_MEDIA_TYPE)
