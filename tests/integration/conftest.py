"""Fixtures of the integration tests: a registered CPO/eMSP pair per test module and backend (in process),
and a CPO and an eMSP as `evroam serve` processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from support.nodes import InProcessNetwork, Roaming, connect_cpo_and_emsp
from support.processes import NodeProcess


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Roaming:
    """A CPO and an eMSP registered with it, shared by a module's tests (a module may override this)."""
    return await connect_cpo_and_emsp(module_network)


@pytest_asyncio.fixture(loop_scope="module")
async def roaming(connected: Roaming) -> AsyncIterator[Roaming]:
    """The shared pair, with the objects a test stored removed afterwards."""
    yield connected
    await connected.network.clear_objects()


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    """A CPO (NL-CPO) and an eMSP (DE-EMS) as `evroam serve` processes on loopback, with back-office tokens;
    not yet registered with each other. Data moves between them only when a test pulls it (pushing and
    resyncing on their own are the subject of test_convergence_processes)."""
    by_request = {"EVROAM_DELIVERIES": "false", "EVROAM_RESYNC": "false"}
    cpo = NodeProcess(tmp_path, "cpo", "NL-CPO-CPO", admin_token="cpo-admin-secret", env=by_request)
    emsp = NodeProcess(tmp_path, "emsp", "DE-EMS-EMSP", admin_token="emsp-admin-secret", env=by_request)
    try:
        cpo.start()
        emsp.start()
        yield cpo, emsp
    finally:
        cpo.stop()
        emsp.stop()
