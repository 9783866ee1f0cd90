"""Fixtures of the exchange tests: one registered CPO/eMSP pair per test module and backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from support.nodes import InProcessNetwork, Roaming, connect_cpo_and_emsp


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Roaming:
    """A CPO and an eMSP registered with it, shared by a module's tests (a module may override this)."""
    return await connect_cpo_and_emsp(module_network)


@pytest_asyncio.fixture(loop_scope="module")
async def roaming(connected: Roaming) -> AsyncIterator[Roaming]:
    """The shared pair, with the objects a test stored removed afterwards."""
    yield connected
    await connected.network.clear_objects()
