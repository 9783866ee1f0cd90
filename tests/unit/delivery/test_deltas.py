"""What changed between two stored versions of an object (the place and fields a PATCH can carry), and how
the hints of changes waiting for the same receiver merge into one."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evroam.delivery.deltas import Delta, delta_between, merge_hints

T0 = "2024-03-01T12:00:00Z"
T1 = "2024-03-01T12:05:00Z"
T2 = "2024-03-01T12:10:00Z"


def connector(connector_id: str = "1", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "last_updated": T0,
    }
    return {**doc, **changes}


def evse(uid: str, connectors: int = 1, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "uid": uid,
        "evse_id": f"NL*TNM*E{uid}",
        "status": "AVAILABLE",
        "floor_level": "-1",
        "connectors": [connector(str(n + 1)) for n in range(connectors)],
        "last_updated": T0,
    }
    return {**doc, **changes}


def location(evses: int = 2, connectors: int = 1) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "TNM",
        "id": "LOC1",
        "publish": True,
        "name": "Depot Oost",
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.089", "longitude": "5.110"},
        "time_zone": "Europe/Amsterdam",
        "evses": [evse(f"E{n + 1}", connectors) for n in range(evses)],
        "last_updated": T0,
    }


def session(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "TNM",
        "id": "S1",
        "start_date_time": T0,
        "kwh": 0.0,
        "auth_method": "WHITELIST",
        "location_id": "LOC1",
        "evse_uid": "E1",
        "connector_id": "1",
        "currency": "EUR",
        "charging_periods": [{"start_date_time": T0, "dimensions": [{"type": "ENERGY", "volume": 0.0}]}],
        "status": "PENDING",
        "last_updated": T0,
    }
    return {**doc, **changes}


def token(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": "0123ABCD",
        "type": "RFID",
        "contract_id": "NL-MSP-C12345678-X",
        "issuer": "MSP Mobility",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": T0,
    }
    return {**doc, **changes}


def encoded(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def delta(module: str, before: dict[str, Any], after: dict[str, Any]) -> Delta | None:
    hint = delta_between(module, encoded(before), encoded(after))
    return None if hint is None else Delta.from_json(hint)


def changed(doc: dict[str, Any], *at: str | int) -> dict[str, Any]:
    """`doc` (a copy) and the part of it at `at` (EVSE index, then connector index), with every last_updated
    on the way moved to T1, as the locations service moves them."""
    after = copy.deepcopy(doc)
    after["last_updated"] = T1
    part = after
    if at:
        part = after["evses"][at[0]]
        part["last_updated"] = T1
    if len(at) > 1:
        part = part["connectors"][at[1]]
        part["last_updated"] = T1
    return after


# -- Locations --------------------------------------------------------------------------------------------


def test_an_evse_status_change_is_a_patch_of_that_evse() -> None:
    before = location()
    after = changed(before, 0)
    after["evses"][0]["status"] = "CHARGING"
    assert delta("locations", before, after) == Delta(("E1",), ("last_updated", "status"))


def test_an_evse_status_change_without_its_location_moving_is_still_an_evse_patch() -> None:
    before = location()
    after = copy.deepcopy(before)
    after["evses"][1]["status"] = "BLOCKED"
    assert delta("locations", before, after) == Delta(("E2",), ("last_updated", "status"))


def test_a_connector_field_change_is_a_patch_of_that_connector() -> None:
    before = location(connectors=2)
    after = changed(before, 1, 1)
    after["evses"][1]["connectors"][1]["max_amperage"] = 16
    assert delta("locations", before, after) == Delta(("E2", "2"), ("last_updated", "max_amperage"))


def test_two_evses_changed_send_the_whole_location() -> None:
    before = location()
    after = changed(before, 0)
    after["evses"][0]["status"] = "CHARGING"
    after["evses"][1]["status"] = "CHARGING"
    after["evses"][1]["last_updated"] = T1
    assert delta("locations", before, after) is None


def test_two_connectors_of_one_evse_changed_put_that_evse() -> None:
    before = location(connectors=2)
    after = changed(before, 0, 0)
    after["evses"][0]["connectors"][0]["max_voltage"] = 400
    after["evses"][0]["connectors"][1]["max_voltage"] = 400
    assert delta("locations", before, after) == Delta(("E1",), whole=True)


def test_an_evse_field_and_one_of_its_connectors_changed_put_that_evse() -> None:
    before = location()
    after = changed(before, 0, 0)
    after["evses"][0]["status"] = "OUTOFORDER"
    after["evses"][0]["connectors"][0]["max_voltage"] = 400
    assert delta("locations", before, after) == Delta(("E1",), whole=True)


def test_an_evse_appended_is_put_alone() -> None:
    before = location()
    after = changed(before)
    after["evses"].append(evse("E3", last_updated=T1))
    assert delta("locations", before, after) == Delta(("E3",), whole=True)


def test_the_first_evse_of_a_location_is_put_alone() -> None:
    before = location(evses=0)
    after = changed(before)
    after["evses"].append(evse("E1", last_updated=T1))
    assert delta("locations", before, after) == Delta(("E1",), whole=True)


def test_an_evse_appended_with_another_change_sends_the_whole_location() -> None:
    before = location()
    after = changed(before)
    after["name"] = "Depot West"
    after["evses"].append(evse("E3", last_updated=T1))
    assert delta("locations", before, after) is None


def test_an_evse_inserted_before_others_sends_the_whole_location() -> None:
    before = location()
    after = changed(before)
    after["evses"].insert(0, evse("E0", last_updated=T1))
    assert delta("locations", before, after) is None


def test_an_evse_taken_out_of_the_list_sends_the_whole_location() -> None:
    before = location()
    after = changed(before)
    del after["evses"][1]
    assert delta("locations", before, after) is None


def test_a_connector_added_to_an_evse_puts_that_evse() -> None:
    before = location()
    after = changed(before, 1)
    after["evses"][1]["connectors"].append(connector("2", last_updated=T1))
    assert delta("locations", before, after) == Delta(("E2",), whole=True)


def test_a_connector_taken_from_an_evse_puts_that_evse() -> None:
    before = location(connectors=2)
    after = changed(before, 0)
    del after["evses"][0]["connectors"][0]
    assert delta("locations", before, after) == Delta(("E1",), whole=True)


def test_a_location_field_change_is_a_patch_of_the_location() -> None:
    before = location()
    after = changed(before)
    after["name"] = "Depot West"
    assert delta("locations", before, after) == Delta((), ("last_updated", "name"))


def test_a_nested_location_field_change_is_patched_whole_as_that_field() -> None:
    before = location()
    after = changed(before)
    after["coordinates"] = {"latitude": "52.090", "longitude": "5.110"}
    after["opening_times"] = {"twentyfourseven": True}
    assert delta("locations", before, after) == Delta((), ("coordinates", "last_updated", "opening_times"))


@pytest.mark.parametrize("cleared", [None, "absent"], ids=["null", "absent"])
def test_a_location_field_cleared_sends_the_whole_location(cleared: str | None) -> None:
    before = location()
    after = changed(before)
    if cleared is None:
        after["name"] = None
    else:
        del after["name"]
    assert delta("locations", before, after) is None


@pytest.mark.parametrize("cleared", [None, "absent"], ids=["null", "absent"])
def test_an_evse_field_cleared_puts_that_evse(cleared: str | None) -> None:
    before = location()
    after = changed(before, 1)
    if cleared is None:
        after["evses"][1]["floor_level"] = None
    else:
        del after["evses"][1]["floor_level"]
    assert delta("locations", before, after) == Delta(("E2",), whole=True)


def test_a_connector_field_cleared_puts_that_connector() -> None:
    before = location()
    after = changed(before, 0, 0)
    del after["evses"][0]["connectors"][0]["max_amperage"]
    assert delta("locations", before, after) == Delta(("E1", "1"), whole=True)


def test_a_location_field_and_an_evse_changed_send_the_whole_location() -> None:
    before = location()
    after = changed(before, 0)
    after["name"] = "Depot West"
    after["evses"][0]["status"] = "CHARGING"
    assert delta("locations", before, after) is None


def test_a_location_whose_evse_list_went_away_is_sent_whole() -> None:
    before = location()
    after = changed(before)
    del after["evses"]
    assert delta("locations", before, after) is None


# -- Sessions, Tokens, Tariffs, CDRs ---------------------------------------------------------------------


def test_a_session_kwh_and_status_change_is_a_patch_of_those_fields() -> None:
    before = session()
    after = session(kwh=4.2, status="ACTIVE", last_updated=T1)
    assert delta("sessions", before, after) == Delta((), ("kwh", "last_updated", "status"))


def test_a_session_with_new_charging_periods_is_sent_whole() -> None:
    before = session()
    periods = [*before["charging_periods"], {"start_date_time": T1, "dimensions": [{"type": "TIME", "volume": 1}]}]
    after = session(kwh=4.2, charging_periods=periods, last_updated=T1)
    assert delta("sessions", before, after) is None


def test_a_session_field_cleared_sends_the_whole_session() -> None:
    before = session(meter_id="M-1")
    after = session(meter_id=None, last_updated=T1)
    assert delta("sessions", before, after) is None


def test_a_token_valid_change_is_a_patch_of_that_field() -> None:
    before = token()
    after = token(valid=False, last_updated=T1)
    assert delta("tokens", before, after) == Delta((), ("last_updated", "valid"))


def test_a_token_field_removed_sends_the_whole_token() -> None:
    before = token(visual_number="0123")
    after = token(last_updated=T1)
    assert delta("tokens", before, after) is None


@pytest.mark.parametrize("module", ["tariffs", "cdrs"])
def test_tariffs_and_cdrs_are_always_sent_whole(module: str) -> None:
    before = {"country_code": "NL", "party_id": "TNM", "id": "T1", "currency": "EUR", "last_updated": T0}
    after = {**before, "currency": "USD", "last_updated": T1}
    assert delta_between(module, encoded(before), encoded(after)) is None


# -- hints ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hint",
    [Delta(()), Delta((), ("last_updated", "name")), Delta(("E1",), whole=True), Delta(("E1", "2"), ("status",))],
)
def test_a_delta_survives_its_json(hint: Delta) -> None:
    assert Delta.from_json(hint.to_json()) == hint


def hint(*at: str, fields: tuple[str, ...] = (), whole: bool = False) -> str:
    return Delta(at, fields, whole).to_json()


def merged(first: str | None, then: str | None) -> Delta | None:
    found = merge_hints(first, then)
    return None if found is None else Delta.from_json(found)


def test_hints_at_the_same_place_merge_their_fields() -> None:
    first = hint("E1", fields=("last_updated", "status"))
    then = hint("E1", fields=("floor_level", "last_updated"))
    assert merged(first, then) == Delta(("E1",), ("floor_level", "last_updated", "status"))


def test_hints_of_the_location_itself_merge_their_fields() -> None:
    first = hint(fields=("last_updated", "name"))
    then = hint(fields=("city", "last_updated"))
    assert merged(first, then) == Delta((), ("city", "last_updated", "name"))


@pytest.mark.parametrize("whole_first", [True, False])
def test_a_whole_hint_at_the_same_place_stays_whole(whole_first: bool) -> None:
    whole, fields = hint("E1", "1", whole=True), hint("E1", "1", fields=("last_updated", "max_voltage"))
    pair = (whole, fields) if whole_first else (fields, whole)
    assert merged(*pair) == Delta(("E1", "1"), whole=True)


def test_an_evse_and_one_of_its_connectors_merge_into_that_evse_whole() -> None:
    first = hint("E1", fields=("last_updated", "status"))
    then = hint("E1", "1", fields=("last_updated", "max_voltage"))
    assert merged(first, then) == Delta(("E1",), whole=True)
    assert merged(then, first) == Delta(("E1",), whole=True)


def test_two_connectors_of_one_evse_merge_into_that_evse_whole() -> None:
    first = hint("E1", "1", fields=("last_updated", "max_voltage"))
    then = hint("E1", "2", fields=("last_updated", "max_voltage"))
    assert merged(first, then) == Delta(("E1",), whole=True)


def test_two_evses_merge_into_the_whole_location() -> None:
    assert merged(hint("E1", fields=("status",)), hint("E2", fields=("status",))) is None
    assert merged(hint("E1", "1", whole=True), hint("E2", "1", whole=True)) is None


def test_the_location_itself_and_an_evse_merge_into_the_whole_location() -> None:
    assert merged(hint(fields=("last_updated", "name")), hint("E1", fields=("status",))) is None


@pytest.mark.parametrize(
    "other", [None, hint("E1", fields=("status",)), hint(fields=("name",)), hint("E1", whole=True)]
)
def test_a_whole_object_merged_with_anything_stays_whole(other: str | None) -> None:
    assert merge_hints(None, other) is None
    assert merge_hints(other, None) is None


# -- property: a receiver applying the delta ends up with `after` ---------------------------------------------


def _find(items: list[dict[str, Any]], field: str, ident: str) -> dict[str, Any] | None:
    return next((item for item in items if item[field] == ident), None)


def received(before: dict[str, Any], found: Delta | None, after: dict[str, Any]) -> dict[str, Any]:
    """What a receiver holding `before` has after the request the delta stands for, its values read from
    `after` (mod_locations: a PUT or PATCH of an EVSE or Connector moves its parents' last_updated too)."""
    if found is None:
        return copy.deepcopy(after)
    doc = copy.deepcopy(before)
    parents: list[dict[str, Any]] = []
    target, source = doc, after
    if found.at:
        parents.append(doc)
        source = _find(after["evses"], "uid", found.at[0]) or {}
        evses = doc.setdefault("evses", [])
        existing = _find(evses, "uid", found.at[0])
        if existing is None:
            evses.append({"uid": found.at[0]})
            existing = evses[-1]
        target = existing
    if len(found.at) > 1:
        parents.append(target)
        source = _find(source["connectors"], "id", found.at[1]) or {}
        existing = _find(target["connectors"], "id", found.at[1])
        if existing is None:
            target["connectors"].append({"id": found.at[1]})
            existing = target["connectors"][-1]
        target = existing
    if found.whole:
        target.clear()
        target.update(copy.deepcopy(source))
    else:
        target.update({field: copy.deepcopy(source[field]) for field in found.fields})
    for parent in parents:
        parent["last_updated"] = max(parent["last_updated"], target["last_updated"])
    return doc


STATUSES = st.sampled_from(["AVAILABLE", "CHARGING", "BLOCKED", "OUTOFORDER", "INOPERATIVE"])
EDITS = st.one_of(
    st.tuples(st.just("status"), st.integers(0, 4), STATUSES),
    st.tuples(st.just("touch"), st.integers(0, 4)),
    st.tuples(st.just("voltage"), st.integers(0, 4), st.integers(0, 2), st.sampled_from([230, 400])),
    st.tuples(st.just("floor"), st.integers(0, 4), st.sampled_from(["-1", "0", None])),
    st.tuples(st.just("name"), st.sampled_from(["Depot Oost", "Depot West", None])),
    st.tuples(st.just("append"), st.just(0)),
)


def edit(before: dict[str, Any], edits: list[tuple[Any, ...]], at: str = T1) -> dict[str, Any]:
    """`before` after `edits`, each moving last_updated to `at` where it changes something, as the service does."""
    after = copy.deepcopy(before)
    evses = after["evses"]
    for kind, *args in edits:
        if kind == "name":
            after["name"], after["last_updated"] = args[0], at
        elif kind == "append":
            evses.append(evse(f"N{len(evses)}", last_updated=at))
            after["last_updated"] = at
        elif evses:
            item = evses[args[0] % len(evses)]
            if kind == "status":
                item["status"] = args[1]
            elif kind == "floor":
                item["floor_level"] = args[1]
            elif kind == "voltage":
                part = item["connectors"][args[1] % len(item["connectors"])]
                part["max_voltage"], part["last_updated"] = args[2], at
            item["last_updated"] = after["last_updated"] = at
    return after


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 4),
    st.integers(1, 3),
    st.lists(EDITS, max_size=4),
)
def test_a_receiver_applying_the_delta_holds_the_new_location(evses: int, connectors: int, edits: list[Any]) -> None:
    before = location(evses, connectors)
    after = edit(before, edits)
    found = delta("locations", before, after)
    assert received(before, found, after) == after


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.data())
def test_a_single_evse_status_flip_is_always_a_patch_that_reproduces_it(evses: int, data: st.DataObject) -> None:
    before = location(evses)
    index = data.draw(st.integers(0, evses - 1))
    after = edit(before, [("status", index, data.draw(STATUSES.filter(lambda s: s != "AVAILABLE")))])
    found = delta("locations", before, after)
    assert found == Delta((f"E{index + 1}",), ("last_updated", "status"))
    assert received(before, found, after) == after


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 3), st.lists(EDITS, min_size=1, max_size=2), st.lists(EDITS, min_size=1, max_size=2))
def test_a_receiver_applying_two_merged_deltas_holds_the_latest_location(
    evses: int, first: list[Any], then: list[Any]
) -> None:
    before = location(evses)
    middle = edit(before, first, T1)
    after = edit(middle, then, T2)
    hints = [delta_between("locations", encoded(a), encoded(b)) for a, b in ((before, middle), (middle, after))]
    if encoded(before) == encoded(middle) or encoded(middle) == encoded(after):
        return  # an unchanged write enters no outbox, so has no hint to merge
    combined = merge_hints(*hints)
    found = None if combined is None else Delta.from_json(combined)
    assert received(before, found, after) == after
