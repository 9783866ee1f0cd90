"""`GET /admin/api/traffic`: the OCPI requests a node answered, whichever way it served them (the framework,
a remembered list page, a Locations push served directly)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.nodes import InProcessNetwork, Roaming, connect_cpo_and_emsp, location_body

pytestmark = pytest.mark.asyncio

ADMIN = "emsp-back-office-secret-0123456789"


@pytest.fixture
async def roaming(tmp_path: Path) -> AsyncIterator[Roaming]:
    network = InProcessNetwork(tmp_path)
    try:
        yield await connect_cpo_and_emsp(network, emsp_settings={"admin_token": ADMIN})
    finally:
        await network.close()


async def served(roaming: Roaming) -> dict[tuple[str, str, str], dict[str, Any]]:
    reply = await roaming.network.client("emsp.test").get(
        "/admin/api/traffic", headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert reply.status_code == 200, reply.text
    return {(r["module"], r["interface"], r["operation"]): r for r in reply.json()["data"]["requests"]}


async def test_the_node_counts_every_ocpi_request_it_answered(roaming: Roaming) -> None:
    before = await served(roaming)
    assert before[("versions", "", "GET")]["requests"] >= 1  # the CPO read our versions while registering
    base = "/ocpi/2.2.1/receiver/locations/NL/CPO"
    await roaming.at_emsp.put(f"{base}/LOC1", location_body(), status=(200, 201))
    await roaming.at_emsp.patch(f"{base}/LOC1", {"name": "x"}, status=400, ocpi=2001)
    await roaming.at_emsp.patch(f"{base}/LOC1/EVSE1", {"status": "CHARGING", "last_updated": "2030-01-01T00:00:00Z"})
    after = await served(roaming)
    puts, patches = after[("locations", "RECEIVER", "PUT")], after[("locations", "RECEIVER", "PATCH")]
    assert (puts["requests"], puts["failed"]) == (1, 0)
    assert (patches["requests"], patches["failed"]) == (2, 1)
    assert 0 < patches["p50_ms"] <= patches["max_ms"]
    assert ("locations", "", "GET") not in after
