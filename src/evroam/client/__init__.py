"""Outbound OCPI: one client for every call to a peer, and the URL policy for peer-supplied URLs."""

from evroam.client.client import OcpiClient, OcpiReply
from evroam.client.errors import (
    PeerConnectionError,
    PeerProtocolError,
    PeerRequestError,
    PeerResponseError,
    UrlPolicyError,
)
from evroam.client.url_policy import UrlPolicy

__all__ = [
    "OcpiClient",
    "OcpiReply",
    "PeerConnectionError",
    "PeerProtocolError",
    "PeerRequestError",
    "PeerResponseError",
    "UrlPolicy",
    "UrlPolicyError",
]
