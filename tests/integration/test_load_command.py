"""`evroam load` as a real process: file shapes, module inference, validation and ownership, summary,
exit codes, and a bulk file of 10,000 Locations."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evroam.store import open_store
from evroam.store.interface import ListQuery

from support.backoffice import cdr, location, session, tariff, token
from support.processes import NodeProcess

CPO = "NL-CPO-CPO"
EMSP = "NL-EMS-EMSP"
OLD = "2024-01-02T03:04:05Z"


def envelope(data: Any, status_code: int = 1000) -> dict[str, Any]:
    return {"data": data, "status_code": status_code, "timestamp": "2024-05-02T09:00:00Z"}


# -- running the command ------------------------------------------------------------------------------


@pytest.fixture
def node(tmp_path: Path) -> Iterator[NodeProcess]:
    """A node's database (no server running unless a test starts it)."""
    process = NodeProcess(tmp_path, "node", CPO, EMSP)
    yield process
    process.stop()


def write(tmp_path: Path, content: Any, name: str = "objects.json") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def load(node: NodeProcess, file: Path, *args: str, parties: tuple[str, ...] = (CPO, EMSP)) -> Any:
    """`evroam load FILE --json` expecting exit code 0; returns the summary."""
    result = run_load(node, file, "--json", *args, parties=parties)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def run_load(node: NodeProcess, file: Path, *args: str, parties: tuple[str, ...] = (CPO, EMSP)) -> Any:
    party_args = [a for p in parties for a in ("--party", p)]
    return node.cli("load", str(file), *args, *party_args, check=False)


def stored(node: NodeProcess, module: str) -> list[dict[str, Any]]:
    """The module's objects in the node's database, first stored first."""

    async def read() -> list[dict[str, Any]]:
        store = await open_store(node.database_url)
        try:
            _, objects = await store.list_objects(module, ListQuery(limit=100_000))
        finally:
            await store.close()
        return [json.loads(o.data) for o in objects]

    return asyncio.run(read())


def counts(summary: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return summary["created"], summary["updated"], summary["stale"], summary["exists"], summary["invalid"]


# -- file shapes --------------------------------------------------------------------------------------


def test_array_of_locations_is_stored_with_last_updated_filled(node: NodeProcess, tmp_path: Path) -> None:
    file = write(tmp_path, [location("L1"), location("L2", last_updated=OLD)])
    summary = load(node, file)
    assert summary["module"] == "locations"
    assert summary["objects"] == 2
    assert counts(summary) == (2, 0, 0, 0, 0)
    assert summary["problems"] == []
    first, second = stored(node, "locations")
    assert first["id"] == "L1"
    assert first["last_updated"] != OLD
    assert first["evses"][0]["last_updated"] == first["last_updated"]
    assert first["evses"][0]["connectors"][0]["last_updated"] == first["last_updated"]
    assert second["last_updated"] == OLD
    assert second["evses"][0]["connectors"][0]["last_updated"] == OLD


def test_human_summary_is_printed(node: NodeProcess, tmp_path: Path) -> None:
    file = write(tmp_path, [location("L1"), location("L2")])
    result = run_load(node, file)
    assert result.returncode == 0, result.stderr
    assert "locations from" in result.stdout
    assert "2 objects, 2 created, 0 updated, 0 stale, 0 invalid" in result.stdout


def test_loading_again_updates_and_older_objects_are_stale(node: NodeProcess, tmp_path: Path) -> None:
    newer, older = "2024-06-01T00:00:00Z", "2024-05-01T00:00:00Z"
    assert counts(load(node, write(tmp_path, [tariff("T1", last_updated=newer), tariff("T2")]))) == (2, 0, 0, 0, 0)
    again = write(tmp_path, [tariff("T1", last_updated=older), tariff("T2"), tariff("T3")], "again.json")
    assert counts(load(node, again)) == (1, 1, 1, 0, 0)
    assert stored(node, "tariffs")[0]["last_updated"] == newer


def test_envelope_of_a_saved_sender_page_is_loaded(node: NodeProcess, tmp_path: Path) -> None:
    file = write(tmp_path, envelope([token("T1", last_updated=OLD), token("T2", last_updated=OLD)]))
    summary = load(node, file)
    assert (summary["module"], counts(summary)) == ("tokens", (2, 0, 0, 0, 0))
    assert [t["uid"] for t in stored(node, "tokens")] == ["T1", "T2"]


def test_envelope_reporting_an_error_is_refused(node: NodeProcess, tmp_path: Path) -> None:
    file = write(tmp_path, {**envelope(None, 2001), "status_message": "Invalid parameters"})
    result = run_load(node, file)
    assert result.returncode == 1
    assert "2001" in result.stderr
    assert "Invalid parameters" in result.stderr


def test_a_single_object_is_loaded(node: NodeProcess, tmp_path: Path) -> None:
    summary = load(node, write(tmp_path, session()))
    assert (summary["module"], summary["objects"], summary["created"]) == ("sessions", 1, 1)
    [stored_session] = stored(node, "sessions")
    assert stored_session["id"] == "S1"


def test_an_empty_array_loads_nothing(node: NodeProcess, tmp_path: Path) -> None:
    result = run_load(node, write(tmp_path, []))
    assert result.returncode == 0, result.stderr
    assert "nothing to load" in result.stdout


# -- module inference and --module ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "obj"),
    [
        ("locations", location()),
        ("locations", {k: v for k, v in location().items() if k != "evses"}),  # coordinates alone
        ("tariffs", tariff()),
        ("sessions", session()),
        ("cdrs", cdr()),
        ("tokens", token()),
    ],
)
def test_module_is_inferred_from_the_objects_shape(
    node: NodeProcess, tmp_path: Path, module: str, obj: dict[str, Any]
) -> None:
    summary = load(node, write(tmp_path, [obj]))
    assert (summary["module"], summary["created"]) == (module, 1)
    assert len(stored(node, module)) == 1


def test_unrecognisable_objects_need_module(node: NodeProcess, tmp_path: Path) -> None:
    file = write(tmp_path, [{"id": "X", "something": 1}])
    result = run_load(node, file)
    assert result.returncode == 1
    assert "pass --module" in result.stderr
    forced = run_load(node, file, "--module", "tariffs", "--json")
    assert forced.returncode == 1
    summary = json.loads(forced.stdout)
    assert summary["module"] == "tariffs"
    assert summary["invalid"] == 1
    assert {p["pointer"] for p in summary["problems"]} >= {"/0/currency", "/0/elements"}


def test_objects_of_several_modules_are_refused_without_module(node: NodeProcess, tmp_path: Path) -> None:
    file = write(tmp_path, [location(), tariff()])
    result = run_load(node, file, "--json")
    assert result.returncode == 1
    assert "several modules" in json.loads(result.stdout)["error"]
    assert stored(node, "locations") == []
    # With --module the tariff is just an invalid Location; the Location is stored.
    forced = run_load(node, file, "--module", "locations", "--json")
    assert forced.returncode == 1
    assert counts(json.loads(forced.stdout)) == (1, 0, 0, 0, 1)


# -- invalid objects and ownership -----------------------------------------------------------------------


def test_invalid_objects_are_reported_by_index_and_pointer_and_the_valid_ones_stored(
    node: NodeProcess, tmp_path: Path
) -> None:
    broken = location("L2")
    broken["evses"][0]["status"] = "BUSY"
    objects = [location("L1"), broken, "not an object", location("L4", last_updated="soon"), location("L5")]
    result = run_load(node, write(tmp_path, envelope(objects)), "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert counts(summary) == (2, 0, 0, 0, 3)
    problems = [(p["index"], p["pointer"]) for p in summary["problems"]]
    assert problems == [(1, "/data/1/evses/0/status"), (2, "/data/2"), (3, "/data/3/last_updated")]
    assert [loc["id"] for loc in stored(node, "locations")] == ["L1", "L5"]
    assert "load those objects again" in result.stderr


def test_human_output_lists_problems_and_says_what_to_do(node: NodeProcess, tmp_path: Path) -> None:
    result = run_load(node, write(tmp_path, [tariff("T1"), tariff("T2", currency="EURO")]))
    assert result.returncode == 1
    assert "invalid #1 /1/currency" in result.stderr
    assert "1 invalid objects were skipped" in result.stderr
    assert "1 created, 0 updated, 0 stale, 1 invalid" in result.stdout


def test_objects_of_parties_not_ours_are_refused(node: NodeProcess, tmp_path: Path) -> None:
    objects = [location("L1"), location("L2", cc="DE"), location("L3", pid="EMS")]
    result = run_load(node, write(tmp_path, objects), "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert counts(summary) == (1, 0, 0, 0, 2)
    assert [(p["index"], p["pointer"]) for p in summary["problems"]] == [(1, "/1/country_code"), (2, "/2/country_code")]
    assert "DE/CPO is not a CPO party of this node" in summary["problems"][0]["message"]
    # Tokens belong to eMSP parties: NL/CPO is ours, but not an eMSP.
    tokens = run_load(node, write(tmp_path, [token(party_id="CPO")], "tokens.json"), "--json")
    assert json.loads(tokens.stdout)["invalid"] == 1
    assert stored(node, "tokens") == []


def test_cdrs_are_never_replaced(node: NodeProcess, tmp_path: Path) -> None:
    assert counts(load(node, write(tmp_path, [cdr("C1"), cdr("C2", total_energy=30)]))) == (2, 0, 0, 0, 0)
    [first, _] = stored(node, "cdrs")
    again = run_load(node, write(tmp_path, [cdr("C1"), cdr("C2", total_energy=31), cdr("C3")], "2.json"), "--json")
    assert again.returncode == 1
    summary = json.loads(again.stdout)
    assert counts(summary) == (1, 0, 0, 1, 1)
    [problem] = summary["problems"]
    assert (problem["index"], problem["pointer"]) == (1, "/1/id")
    assert "already exists" in problem["message"]
    assert stored(node, "cdrs")[0] == first
    assert stored(node, "cdrs")[1]["total_energy"] == 30


# -- unreadable files -----------------------------------------------------------------------------------


def test_unreadable_files_exit_1_with_a_message(node: NodeProcess, tmp_path: Path) -> None:
    missing = run_load(node, tmp_path / "missing.json")
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr
    not_json = run_load(node, write(tmp_path, '[{"id": 1,', "bad.json"))
    assert not_json.returncode == 1
    assert "not valid JSON" in not_json.stderr
    scalar = run_load(node, write(tmp_path, "42", "scalar.json"), "--json")
    assert scalar.returncode == 1
    assert "JSON object or array" in json.loads(scalar.stdout)["error"]


def test_without_parties_the_command_says_how_to_name_them(node: NodeProcess, tmp_path: Path) -> None:
    result = run_load(node, write(tmp_path, [tariff()]), parties=())
    assert result.returncode == 1
    assert "--party" in result.stderr


def test_load_uses_the_parties_a_running_node_saved(tmp_path: Path) -> None:
    node = NodeProcess(tmp_path, "served", CPO)
    node.start()
    try:
        summary = load(node, write(tmp_path, [location("L1"), location("L2")]), parties=())
    finally:
        node.stop()
    assert counts(summary) == (2, 0, 0, 0, 0)
    assert [loc["id"] for loc in stored(node, "locations")] == ["L1", "L2"]


# -- bulk ----------------------------------------------------------------------------------------------


def test_ten_thousand_locations_are_loaded(node: NodeProcess, tmp_path: Path) -> None:
    objects = [location(f"LOC{n:05d}") for n in range(10_000)]
    objects[4321]["coordinates"]["latitude"] = "north"
    result = run_load(node, write(tmp_path, objects), "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert counts(summary) == (9_999, 0, 0, 0, 1)
    assert [p["pointer"] for p in summary["problems"]] == ["/4321/coordinates/latitude"]
    locations = stored(node, "locations")
    assert len(locations) == 9_999
    assert locations[-1]["id"] == "LOC09999"
