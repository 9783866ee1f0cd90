"""Pagination of Sender list GETs (transport_and_format_pagination): offset/limit/date window and headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from evroam.errors import InvalidParametersError
from evroam.types import format_datetime, parse_datetime

__all__ = ["PageRequest", "page_headers", "parse_page_request"]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of a list: `date_from` inclusive, `date_to` exclusive, `limit` already capped."""

    offset: int
    limit: int
    date_from: datetime | None = None
    date_to: datetime | None = None


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw.startswith("-") and raw[1:].isascii() and raw[1:].isdigit():
        raise InvalidParametersError(f"query parameter {name} must not be negative")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 30:
        raise InvalidParametersError(f"query parameter {name} must be an integer (0 or more), got {raw[:20]!r}")
    return min(int(raw), 2**62)  # beyond any table, and within every database's integer range


def _date_param(query: Mapping[str, str], name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_datetime(raw)
    except ValueError as exc:
        raise InvalidParametersError(f"query parameter {name}: {exc}") from None


def parse_page_request(query: Mapping[str, str], cap: int, *, require_date_from: bool = False) -> PageRequest:
    """Read the four pagination parameters; a `limit` above the server cap is clamped to it."""
    limit = _int_param(query, "limit")
    date_from = _date_param(query, "date_from")
    if require_date_from and date_from is None:
        # OCPI 2.2.1 mod_sessions_cpo_get_request_parameters: date_from is required for sessions.
        raise InvalidParametersError("query parameter date_from is required")
    return PageRequest(
        offset=_int_param(query, "offset") or 0,
        limit=cap if limit is None else min(limit, cap),
        date_from=date_from,
        date_to=_date_param(query, "date_to"),
    )


def page_headers(endpoint_url: str, page: PageRequest, total: int, cap: int) -> dict[str, str]:
    """`X-Total-Count`, `X-Limit` (the server's cap, not the count returned) and `Link` to the next
    page, which repeats the date filters with the next offset and the capped limit."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(cap)}
    next_offset = page.offset + page.limit
    if page.limit > 0 and next_offset < total:
        params: dict[str, str] = {}
        if page.date_from is not None:
            params["date_from"] = format_datetime(page.date_from)
        if page.date_to is not None:
            params["date_to"] = format_datetime(page.date_to)
        params["offset"] = str(next_offset)
        params["limit"] = str(page.limit)
        headers["Link"] = f'<{endpoint_url}?{urlencode(params)}>; rel="next"'
    return headers
