"""Walk a peer's paginated Sender list: follow `Link: <...>; rel="next"`, or offsets when it has none."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from evroam.client.client import OcpiClient
from evroam.client.errors import PeerProtocolError
from evroam.transport.headers import RoutingHeaders

__all__ = ["Page", "next_link", "pages"]

_LINK_RE = re.compile(r'<([^>]*)>\s*;[^,]*?\brel\s*=\s*"?next"?', re.IGNORECASE)
MAX_PAGES = 100_000  # a peer whose links never end is cut off rather than followed forever


@dataclass(frozen=True, slots=True)
class Page:
    """One page of objects (raw JSON values, validated by the caller) and what the peer said of the whole."""

    items: list[Any]
    total: int | None
    url: str


def next_link(header: str | None) -> str | None:
    """The `rel="next"` target of a Link header (transport_and_format_paginated_response)."""
    if not header:
        return None
    m = _LINK_RE.search(header)
    return m.group(1).strip() if m else None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    return int(value) if value is not None and value.strip().isdigit() else None


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


async def pages(
    client: OcpiClient,
    url: str,
    *,
    token: str,
    version: str | None,
    params: Mapping[str, str] | None = None,
    routing: RoutingHeaders | None = None,
) -> AsyncIterator[Page]:
    """Yield every page of the list at `url` with `params` (date_from, date_to, limit...).

    Next pages come from the Link header; a peer that sends none but reports `X-Total-Count` is walked by
    offset. Links must stay on the endpoint's origin (a peer cannot send us to a third host)."""
    current: str | None = url
    query: dict[str, str] | None = dict(params or {})
    offset = int((params or {}).get("offset", "0") or 0)
    for _ in range(MAX_PAGES):
        assert current is not None
        reply = await client.request("GET", current, token=token, version=version, params=query, routing=routing)
        items = reply.data if isinstance(reply.data, list) else None
        if items is None:
            raise PeerProtocolError(f"GET {current} answered data that is not a list", current)
        total = _int_header(reply.headers, "x-total-count")
        yield Page(items, total, current)
        link = next_link(reply.headers.get("link"))
        offset += len(items)
        if link:
            if not _same_origin(link, url):
                raise PeerProtocolError(f"next page link {link[:100]!r} leaves the endpoint's host", url)
            current, query = link, None
        elif items and total is not None and offset < total:
            # No Link, but the count says there is more: continue by offset with the same filters.
            query = {**(params or {}), "offset": str(offset)}
            current = url
        else:
            return
    raise PeerProtocolError(f"gave up after {MAX_PAGES} pages of {url}", url)
