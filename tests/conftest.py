"""Shared fixtures: in-process nodes wired together through ASGI transports."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.nodes import InProcessNetwork


@pytest.fixture
async def network(tmp_path: Path) -> AsyncIterator[InProcessNetwork]:
    """A set of in-process nodes that call each other through ASGI (no sockets)."""
    net = InProcessNetwork(tmp_path)
    try:
        yield net
    finally:
        await net.close()


NodeFactory = Callable[..., Awaitable[object]]
