"""Commands and smart charging between a CPO (with the built-in charge-point simulator) and an eMSP, both
running as `evroam serve` processes talking HTTP over loopback: a session started by command, limited by a
charging profile, stopped by command and billed; the documented refusals; and a CPO killed between a
command's response and its result that still delivers the result after it comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.nodes import connector_body, evse_body, location_body, tariff_body, token_body
from support.processes import NodeProcess, wait_for

CPO_TO = {"country_code": "NL", "party_id": "CPO"}
CAPABLE = ["REMOTE_START_STOP_CAPABLE", "CHARGING_PROFILE_CAPABLE", "RESERVABLE", "UNLOCK_CAPABLE"]


@pytest.fixture
def roaming(tmp_path: Path) -> Iterator[tuple[NodeProcess, NodeProcess, str]]:
    """A CPO with one Location (EVSE1 online, EVSE2 offline) and a tariff, and an eMSP registered with it;
    yields both and the CPO's peer id at the eMSP."""
    sim = {
        "EVROAM_SIM_METER_INTERVAL": "0.3",
        "EVROAM_SIM_ANSWER_DELAY": "0.3",
        "EVROAM_COMMAND_TIMEOUT": "4",
    }
    cpo = NodeProcess(tmp_path, "cpo", "NL-CPO-CPO", admin_token="cpo-admin-secret", env=sim)
    emsp = NodeProcess(tmp_path, "emsp", "DE-EMS-EMSP", admin_token="emsp-admin-secret")
    try:
        cpo.start()
        emsp.start()
        token_a = cpo.cli_json("credentials", "issue")["token"]
        emsp.cli("credentials", "register", "--dev", "--versions-url", cpo.versions_url, "--token", token_a)
        [cpo_peer] = emsp.cli_json("credentials", "list")
        connector = connector_body(tariff_ids=["T1"])
        evses = [
            evse_body("EVSE1", capabilities=CAPABLE, connectors=[connector]),
            evse_body("EVSE2", status="UNKNOWN", capabilities=CAPABLE),
        ]
        assert cpo.admin("PUT", "/tariffs/NL/CPO/T1", tariff_body()).status_code == 201
        assert cpo.admin("PUT", "/locations/NL/CPO/LOC1", location_body(evses=evses)).status_code == 201
        yield cpo, emsp, cpo_peer["id"]
    finally:
        cpo.stop()
        emsp.stop()


def send(emsp: NodeProcess, command: str, **fields: Any) -> dict[str, Any]:
    response = emsp.admin("POST", f"/commands/{command}", {"to": CPO_TO, **fields})
    assert response.status_code == 201, response.text
    view: dict[str, Any] = response.json()["data"]
    return view


def outcome(emsp: NodeProcess, command_id: str) -> dict[str, Any]:
    """The command once its result is in (or it was refused or failed). Not once its deadline passed: a
    CPO's TIMEOUT result arrives about when the eMSP's deadline does."""

    def settled() -> dict[str, Any] | None:
        view: dict[str, Any] = emsp.admin("GET", f"/commands/{command_id}").json()["data"]
        return view if "result" in view or view["state"] in ("REFUSED", "FAILED") else None

    result: dict[str, Any] = wait_for(settled, f"the result of command {command_id}")
    return result


def pulled_session(emsp: NodeProcess, cpo_peer: str, uid: str) -> dict[str, Any]:
    emsp.cli("sync", cpo_peer, "--dev", "--module", "sessions")
    [session] = [s for s in emsp.stored("sessions").values() if s["cdr_token"]["uid"] == uid]
    return session


def powers(session: dict[str, Any]) -> list[float]:
    """The power (kW) of each charging period."""
    return [
        float(next(d["volume"] for d in p["dimensions"] if d["type"] == "POWER")) for p in session["charging_periods"]
    ]


def test_a_session_started_by_command_is_limited_by_a_profile_stopped_and_billed(
    roaming: tuple[NodeProcess, NodeProcess, str],
) -> None:
    cpo, emsp, cpo_peer = roaming
    start = send(
        emsp,
        "START_SESSION",
        token=token_body("APP1", cc="DE", pid="EMS", type_="APP_USER"),
        location_id="LOC1",
        evse_uid="EVSE1",
        authorization_reference="AUTH-REF-1",
    )
    assert (start["state"], start["response"]["result"]) == ("PENDING", "ACCEPTED")
    assert outcome(emsp, start["id"])["result"] == {"result": "ACCEPTED"}

    session = pulled_session(emsp, cpo_peer, "APP1")
    assert (session["status"], session["auth_method"], session["authorization_reference"]) == (
        "ACTIVE",
        "COMMAND",
        "AUTH-REF-1",
    )
    assert session["cdr_token"]["type"] == "APP_USER"
    assert (session["location_id"], session["evse_uid"], session["connector_id"]) == ("LOC1", "EVSE1", "1")
    assert powers(session) == [11.0]  # 3 x 230 V x 32 A offered, the car takes 11 kW
    evse = cpo.stored("locations")[("NL", "CPO", "LOC1", "")]["evses"][0]
    assert evse["status"] == "CHARGING"

    # The eMSP limits the session to 3.7 kW; the CPO answers, applies it, and says what it now plans.
    profile = {"charging_rate_unit": "W", "charging_profile_period": [{"start_period": 0, "limit": 3700}]}
    path = f"/chargingprofiles/NL/CPO/{session['id']}"
    set_view = emsp.admin("PUT", path, {"charging_profile": profile}).json()["data"]
    assert set_view["response"]["result"] == "ACCEPTED"
    assert outcome(emsp, set_view["id"])["result"] == {"result": "ACCEPTED"}
    active = wait_for(lambda: emsp.admin("GET", f"{path}/active").json().get("data"), "the ActiveChargingProfile")
    assert active["charging_profile"]["charging_rate_unit"] == "W"
    assert float(active["charging_profile"]["charging_profile_period"][0]["limit"]) == 3700

    def charging_slower() -> dict[str, Any] | None:
        pulled = pulled_session(emsp, cpo_peer, "APP1")
        return pulled if powers(pulled)[-1] == 3.7 else None

    limited = wait_for(charging_slower, "a session update charging at 3.7 kW")
    assert powers(limited)[0] == 11.0
    assert float(limited["kwh"]) > 0
    assert limited["total_cost"]["excl_vat"] is not None

    get_view = emsp.admin("GET", f"{path}?duration=600").json()["data"]
    got = outcome(emsp, get_view["id"])["result"]
    assert got["result"] == "ACCEPTED"
    periods = got["profile"]["charging_profile"]["charging_profile_period"]
    assert [(p["start_period"], float(p["limit"])) for p in periods] == [(0, 3700)]

    stop = send(emsp, "STOP_SESSION", session_id=session["id"])
    assert outcome(emsp, stop["id"])["result"] == {"result": "ACCEPTED"}
    assert pulled_session(emsp, cpo_peer, "APP1")["status"] == "COMPLETED"
    emsp.cli("sync", cpo_peer, "--dev", "--module", "cdrs")
    [cdr] = emsp.stored("cdrs").values()
    assert (cdr["id"], cdr["auth_method"], cdr["authorization_reference"]) == (session["id"], "COMMAND", "AUTH-REF-1")
    assert cdr["cdr_token"]["uid"] == "APP1"
    assert float(cdr["total_energy"]) == pytest.approx(float(pulled_session(emsp, cpo_peer, "APP1")["kwh"]))
    assert cpo.stored("locations")[("NL", "CPO", "LOC1", "")]["evses"][0]["status"] == "AVAILABLE"


def test_refusals_and_timeouts_are_answered_as_documented(roaming: tuple[NodeProcess, NodeProcess, str]) -> None:
    _, emsp, _ = roaming
    token = token_body("APP2", cc="DE", pid="EMS", type_="APP_USER")

    unknown = send(emsp, "UNLOCK_CONNECTOR", location_id="NOWHERE", evse_uid="EVSE1", connector_id="1")
    assert unknown["state"] == "REFUSED"
    assert unknown["response"]["result"] == "REJECTED"
    assert "2003" in unknown["error"]

    stop = send(emsp, "STOP_SESSION", session_id="NO-SUCH-SESSION")
    assert (stop["state"], stop["response"]["result"]) == ("REFUSED", "UNKNOWN_SESSION")

    # EVSE2's charge point is offline: accepted by the CPO, then TIMEOUT once its timeout passed.
    offline = send(emsp, "START_SESSION", token=token, location_id="LOC1", evse_uid="EVSE2")
    assert offline["response"] == {"result": "ACCEPTED", "timeout": 4}
    assert outcome(emsp, offline["id"])["result"] == {"result": "TIMEOUT"}


def test_a_cpo_killed_between_response_and_result_still_delivers_the_result(
    roaming: tuple[NodeProcess, NodeProcess, str],
) -> None:
    cpo, emsp, cpo_peer = roaming
    cpo.stop()
    cpo.env["EVROAM_SIM_ANSWER_DELAY"] = "3"  # the charge point takes its time: long enough to crash meanwhile
    cpo.start()
    token = token_body("APP3", cc="DE", pid="EMS", type_="APP_USER")
    start = send(emsp, "START_SESSION", token=token, location_id="LOC1", evse_uid="EVSE1")
    assert (start["state"], start["response"]["result"]) == ("PENDING", "ACCEPTED")
    cpo.kill()
    assert emsp.admin("GET", f"/commands/{start['id']}").json()["data"]["state"] == "PENDING"

    cpo.env["EVROAM_SIM_ANSWER_DELAY"] = "0.3"
    cpo.start()
    assert outcome(emsp, start["id"])["result"] == {"result": "ACCEPTED"}
    assert pulled_session(emsp, cpo_peer, "APP3")["status"] == "ACTIVE"
