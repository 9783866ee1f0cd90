"""The versions module: versions list and version details, generated from what the node mounts."""

from __future__ import annotations

import base64

import pytest

from evroam.parties.initiate import issue_registration_token

from support.nodes import InProcessNetwork

pytestmark = pytest.mark.asyncio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


async def test_versions_list_is_an_array_of_version_and_url(network: InProcessNetwork) -> None:
    node = await network.add("cpo.test", "NL-CPO-CPO")
    _, token = await issue_registration_token(node)
    async with network.client("cpo.test") as http:
        response = await http.get("/ocpi/versions", headers=auth(token))
    body = response.json()
    assert response.status_code == 200
    assert body["status_code"] == 1000
    assert body["data"] == [{"version": "2.2.1", "url": "http://cpo.test/ocpi/2.2.1"}]
    assert body["timestamp"].endswith("Z")


async def test_version_details_list_credentials_once_with_role_and_url(network: InProcessNetwork) -> None:
    node = await network.add("cpo.test", "NL-CPO-CPO", "NL-CPO-EMSP")
    _, token = await issue_registration_token(node)
    async with network.client("cpo.test") as http:
        response = await http.get("/ocpi/2.2.1", headers=auth(token))
    data = response.json()["data"]
    assert data["version"] == "2.2.1"
    credentials = [e for e in data["endpoints"] if e["identifier"] == "credentials"]
    assert credentials == [
        {"identifier": "credentials", "role": "SENDER", "url": "http://cpo.test/ocpi/2.2.1/credentials"}
    ]
    for endpoint in data["endpoints"]:
        assert endpoint["role"] in ("SENDER", "RECEIVER")
        assert endpoint["url"].startswith("http://cpo.test/ocpi/2.2.1/")


@pytest.mark.parametrize("path", ["/ocpi/versions", "/ocpi/2.2.1"])
async def test_versions_endpoints_require_a_token(network: InProcessNetwork, path: str) -> None:
    await network.add("cpo.test", "NL-CPO-CPO")
    async with network.client("cpo.test") as http:
        response = await http.get(path)
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000


async def test_unknown_version_details_are_404(network: InProcessNetwork) -> None:
    node = await network.add("cpo.test", "NL-CPO-CPO")
    _, token = await issue_registration_token(node)
    async with network.client("cpo.test") as http:
        response = await http.get("/ocpi/1.9", headers=auth(token))
    assert response.status_code == 404
    assert "not supported" in response.json()["status_message"]


async def test_versions_responses_carry_no_routing_headers(network: InProcessNetwork) -> None:
    node = await network.add("cpo.test", "NL-CPO-CPO")
    _, token = await issue_registration_token(node)
    async with network.client("cpo.test") as http:
        response = await http.get("/ocpi/versions", headers={**auth(token), "OCPI-to-party-id": "CPO"})
    assert not [h for h in response.headers if h.lower().startswith("ocpi-")]
