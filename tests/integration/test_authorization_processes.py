"""Real-time authorization between a CPO and an eMSP running as processes, over loopback HTTP: asked from the
CPO's command line and back-office API, answered by the eMSP, and what happens when the eMSP is gone."""

from __future__ import annotations

import json
from typing import Any

from support.processes import NodeProcess


def token(uid: str, whitelist: str) -> dict[str, Any]:
    return {"contract_id": f"DE-EMS-C{uid}", "issuer": "EMS", "valid": True, "whitelist": whitelist}


def authorize(cpo: NodeProcess, *args: str) -> tuple[int, dict[str, Any]]:
    result = cpo.cli("authorize", *args, "--dev", "--json", check=False)
    return result.returncode, json.loads(result.stdout)


def test_the_cpo_asks_the_emsp_and_falls_back_when_it_is_gone(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = nodes
    token_a = cpo.cli_json("credentials", "issue")["token"]
    emsp.cli("credentials", "register", "--dev", "--versions-url", cpo.versions_url, "--token", token_a)
    [emsp_peer] = cpo.cli_json("credentials", "list")
    for uid, whitelist in (("RT1", "NEVER"), ("OFF1", "ALLOWED_OFFLINE")):
        response = emsp.admin("PUT", f"/tokens/DE/EMS/{uid}", token(uid, whitelist))
        assert response.status_code == 201, response.text
    cpo.cli("sync", emsp_peer["id"], "--dev", "--module", "tokens")  # the CPO's cache of the eMSP's tokens

    code, answer = authorize(cpo, "RT1", "--location", "LOC1", "--evse", "E1")
    assert code == 0, answer
    assert (answer["source"], answer["allowed"]) == ("REAL_TIME", "ALLOWED")
    assert answer["location"] == {"location_id": "LOC1", "evse_uids": ["E1"]}
    assert len(answer["authorization_reference"]) == 36
    code, answer = authorize(cpo, "NOBODY")
    assert (code, answer["source"]) == (1, "UNKNOWN")
    via_api = cpo.admin("POST", "/authorize", {"uid": "OFF1"})
    assert via_api.status_code == 200, via_api.text
    assert (via_api.json()["data"]["accepted"], via_api.json()["data"]["source"]) == (True, "REAL_TIME")

    emsp.stop()
    code, answer = authorize(cpo, "OFF1", "--wait", "2")
    assert (code, answer["source"], answer["allowed"]) == (0, "OFFLINE", "ALLOWED")
    assert "could not be reached" in answer["reason"]
    code, answer = authorize(cpo, "RT1", "--wait", "2")
    assert (code, answer["source"]) == (1, "UNREACHABLE")
