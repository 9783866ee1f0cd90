"""A CPO and an eMSP as real processes: the CPO's back office feeds its data, the eMSP pulls it all (and a
delta), the eMSP's tokens reach the CPO, and both sides hold the same objects field by field."""

from __future__ import annotations

import json
from pathlib import Path

from support import ocpi_data as data
from support.processes import NodeProcess


def test_back_office_data_reaches_the_emsp_by_pull_and_tokens_reach_the_cpo(
    tmp_path: Path, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    cpo, emsp = nodes
    token_a = cpo.cli_json("credentials", "issue")["token"]
    emsp.cli("credentials", "register", "--dev", "--versions-url", cpo.versions_url, "--token", token_a)
    [cpo_peer] = emsp.cli_json("credentials", "list")
    [emsp_peer] = cpo.cli_json("credentials", "list")

    # The CPO's back office: locations in bulk from a file, the rest through the API.
    locations = [data.location(i, evses=2 + i % 3) for i in range(40)]
    (tmp_path / "locations.json").write_text(json.dumps(locations))
    cpo.cli("load", str(tmp_path / "locations.json"))
    for tid in ("T1", "T2"):
        assert cpo.admin("PUT", f"/tariffs/NL/CPO/{tid}", data.tariff(tid)).status_code == 201
    assert cpo.admin("PUT", "/sessions/NL/CPO/S1", data.session("S1")).status_code == 201
    assert (
        cpo.admin("PUT", "/sessions/NL/CPO/S9", data.session("S9", token_cc="BE", token_pid="OTH")).status_code == 201
    )
    assert cpo.admin("POST", "/cdrs", data.cdr("C1")).status_code == 201
    assert cpo.admin("POST", "/cdrs", data.cdr("C9", token_cc="BE", token_pid="OTH")).status_code == 201
    # The eMSP's back office: its drivers' tokens.
    for uid in ("0401A1", "0401A2", "0401A3"):
        assert emsp.admin("PUT", f"/tokens/DE/EMS/{uid}", data.token(uid)).status_code == 201

    result = emsp.cli("sync", cpo_peer["id"], "--dev", "--json")
    pulled = {r["module"]: r for r in json.loads(result.stdout)}
    assert pulled["locations"]["received"] == 40
    assert pulled["cdrs"]["received"] == 1  # only the CDR of the eMSP's own token

    for module in ("locations", "tariffs"):
        assert emsp.stored(module) == cpo.stored(module)
    assert emsp.stored("sessions") == {k: v for k, v in cpo.stored("sessions").items() if k[2] == "S1"}
    assert emsp.stored("cdrs") == {k: v for k, v in cpo.stored("cdrs").items() if k[2] == "C1"}

    # A delta: one EVSE changes status at the CPO; the next pull brings just that location.
    assert cpo.admin("PATCH", "/locations/NL/CPO/LOC00007/LOC00007-E1", {"status": "CHARGING"}).status_code == 200
    delta = {r["module"]: r for r in json.loads(emsp.cli("sync", cpo_peer["id"], "--dev", "--json").stdout)}
    assert delta["locations"]["received"] == 1
    assert delta["locations"]["since"] is not None
    assert emsp.stored("locations") == cpo.stored("locations")
    evse = emsp.stored("locations")[("NL", "CPO", "LOC00007", "")]["evses"][1]
    assert evse["status"] == "CHARGING"

    # Tokens: the CPO pulls them from the eMSP's Tokens Sender.
    tokens = {r["module"]: r for r in json.loads(cpo.cli("sync", emsp_peer["id"], "--dev", "--json").stdout)}
    assert tokens["tokens"]["created"] == 3
    assert cpo.stored("tokens") == emsp.stored("tokens")
