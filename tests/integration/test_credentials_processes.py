"""Two evroam nodes as separate processes on loopback register, update and unregister through the CLI."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from support.processes import NodeProcess


def auth(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


def test_cli_register_update_unregister_between_two_processes(nodes: tuple[NodeProcess, NodeProcess]) -> None:
    cpo, emsp = nodes
    issued = cpo.cli_json("credentials", "issue", "--name", "emsp")
    assert issued["versions_url"] == cpo.versions_url
    token_a = issued["token"]

    result = emsp.cli("credentials", "register", "--dev", "--versions-url", cpo.versions_url, "--token", token_a)
    assert "registered with" in result.stdout

    [cpo_seen_by_emsp] = emsp.cli_json("credentials", "list")
    [emsp_seen_by_cpo] = cpo.cli_json("credentials", "list")
    assert cpo_seen_by_emsp["status"] == emsp_seen_by_cpo["status"] == "REGISTERED"
    assert cpo_seen_by_emsp["roles"] == ["NL-CPO-CPO"]
    assert emsp_seen_by_cpo["roles"] == ["DE-EMS-EMSP"]
    assert emsp_seen_by_cpo["versions_url"] == emsp.versions_url
    assert cpo_seen_by_emsp["version"] == "2.2.1"
    # Token A was used up by the registration.
    assert httpx.get(cpo.versions_url, headers=auth(token_a)).status_code == 401

    listing = cpo.cli("credentials", "list").stdout
    assert token_a not in listing

    result = emsp.cli("credentials", "update", cpo_seen_by_emsp["id"], "--dev")
    assert "credentials updated" in result.stdout
    [after_update] = cpo.cli_json("credentials", "list")
    assert after_update["status"] == "REGISTERED"

    result = emsp.cli("credentials", "unregister", cpo_seen_by_emsp["id"], "--dev")
    assert "unregistered" in result.stdout
    assert emsp.cli_json("credentials", "list")[0]["status"] == "UNREGISTERED"
    assert cpo.cli_json("credentials", "list")[0]["status"] == "UNREGISTERED"

    # Tokens never reach the logs.
    cpo.stop()
    emsp.stop()
    for log in (cpo.log_path, emsp.log_path):
        assert token_a not in log.read_text()


def test_register_with_a_wrong_token_fails_with_a_clear_message(
    nodes: tuple[NodeProcess, NodeProcess],
) -> None:
    cpo, emsp = nodes
    result = emsp.cli(
        "credentials", "register", "--dev", "--versions-url", cpo.versions_url, "--token", "nope", check=False
    )
    assert result.returncode == 1
    assert "401" in result.stderr
    assert emsp.cli_json("credentials", "list") == []


def test_register_when_peer_cannot_call_back_explains_why(
    tmp_path: Path, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    cpo, _ = nodes
    # A node whose database says it lives at a port where nothing listens: the CPO's callback fails.
    lonely = NodeProcess(tmp_path, "lonely", "BE-LON-EMSP")
    token_a = cpo.cli_json("credentials", "issue")["token"]
    result = lonely.cli(
        "credentials",
        "register",
        "--dev",
        "--versions-url",
        cpo.versions_url,
        "--token",
        token_a,
        "--base-url",
        lonely.base_url,
        "--party",
        "BE-LON-EMSP",
        check=False,
    )
    assert result.returncode == 1
    assert "3001" in result.stderr
    assert "evroam serve" in result.stderr
