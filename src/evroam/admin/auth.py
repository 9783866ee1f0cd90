"""Back-office authentication: `Authorization: Bearer <admin token>`, the token set in EVROAM_ADMIN_TOKEN."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request

from evroam.errors import UnauthorizedError
from evroam.node import Node
from evroam.parties.auth import node_of

__all__ = ["AdminNode", "admin_node", "check_admin_token"]


def _digest(token: str) -> bytes:
    # Equal-length digests, so the comparison reveals neither the token nor its length.
    return hashlib.sha256(token.encode()).digest()


def check_admin_token(configured: str | None, header: str | None) -> None:
    """Accept only `Bearer <configured token>`, compared in constant time (401 otherwise).

    The back office is not an OCPI peer: OCPI credentials tokens (`Token ...`) are refused here, and the admin
    token is no credentials token, so it opens no OCPI endpoint. The token is never logged or echoed.
    """
    if not configured:
        raise UnauthorizedError("the back-office API is disabled on this node: set EVROAM_ADMIN_TOKEN to enable it")
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise UnauthorizedError(
            "missing admin token: send 'Authorization: Bearer <EVROAM_ADMIN_TOKEN>' "
            "(OCPI credentials tokens are not accepted here)"
        )
    if not hmac.compare_digest(_digest(value), _digest(configured)):
        raise UnauthorizedError("wrong admin token")


async def admin_node(request: Request) -> Node:
    """Dependency: the node, once the request has shown the admin token."""
    node = node_of(request)
    check_admin_token(node.settings.admin_token, request.headers.get("authorization"))
    return node


AdminNode = Annotated[Node, Depends(admin_node)]
"""The node serving an authenticated back-office request."""
