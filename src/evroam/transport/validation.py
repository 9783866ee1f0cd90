"""Reading request bodies: size limit, JSON parsing, model validation with JSON-pointer error messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from evroam.errors import InvalidJsonError, InvalidParametersError, PayloadTooLargeError

__all__ = ["json_pointer", "read_json", "validate_model", "validation_message"]

M = TypeVar("M", bound=BaseModel)


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request body as JSON, refusing oversized bodies before reading them whole."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"request body exceeds {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(f"request body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise InvalidJsonError("request body is empty; a JSON object is required")
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        raise InvalidJsonError(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidJsonError("request body is not valid JSON: nested too deeply") from None


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN, Infinity and -Infinity; RFC 8259 JSON does not.
    raise ValueError(f"{name} is not a JSON value")


def json_pointer(loc: Sequence[int | str]) -> str:
    """RFC 6901 pointer for a pydantic error location."""
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc) if loc else ""


def validation_message(exc: ValidationError, prefix: Sequence[int | str] = ()) -> str:
    """One line per problem, each naming the field by JSON pointer."""
    problems = []
    for err in exc.errors(include_url=False)[:20]:
        loc = [part for part in err["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        pointer = json_pointer([*prefix, *loc]) or "/"
        problems.append(f"{pointer}: {err['msg']}")
    more = exc.error_count() - len(problems)
    if more > 0:
        problems.append(f"... and {more} more")
    return "; ".join(problems)


def validate_model(model: type[M], data: Any) -> M:
    """Validate a parsed body, mapping problems onto OCPI 2001 with the offending fields named."""
    if not isinstance(data, dict):
        raise InvalidParametersError(f"request body must be a JSON object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidParametersError(validation_message(exc)) from None
