"""Unit tests of the bulk loader's file reading and module inference, and of the owner's last_updated stamp."""

from __future__ import annotations

import json
from typing import Any

import pytest

from evroam.admin.auth import check_admin_token
from evroam.admin.bulk import LoadFileError, LoadModule, infer_module, read_document
from evroam.admin.owner import stamp
from evroam.errors import UnauthorizedError

NOW = "2024-07-01T12:00:00Z"


def raw(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_an_array_is_read_with_pointers_into_it() -> None:
    document = read_document(raw([{"a": 1}, {"b": 2}]))
    assert document.objects == [{"a": 1}, {"b": 2}]
    assert document.pointer(1) == (1,)


def test_an_envelope_yields_its_data_array_with_pointers_below_data() -> None:
    document = read_document(raw({"data": [{"a": 1}], "status_code": 1000, "timestamp": NOW}))
    assert document.objects == [{"a": 1}]
    assert document.pointer(0) == ("data", 0)


def test_an_envelope_of_one_object_and_a_bare_object_are_one_object_at_the_root() -> None:
    for content in ({"data": {"a": 1}, "status_code": 1000}, {"a": 1}):
        document = read_document(raw(content))
        assert document.objects == [{"a": 1}]
        assert document.pointer(0) == ()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "not valid JSON"),
        (b"[1,", "not valid JSON"),
        (b"[NaN]", "not valid JSON"),
        (b'"text"', "got str"),
        (raw({"data": [], "status_code": 2001, "status_message": "bad"}), "status_code 2001 (bad)"),
        (raw({"data": 5, "status_code": 1000}), "neither an object nor an array"),
    ],
)
def test_unloadable_content_says_why(content: bytes, expected: str) -> None:
    with pytest.raises(LoadFileError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_document(content)


@pytest.mark.parametrize(
    ("obj", "module"),
    [
        ({"evses": []}, LoadModule.LOCATIONS),
        ({"coordinates": {}}, LoadModule.LOCATIONS),
        ({"elements": []}, LoadModule.TARIFFS),
        ({"cdr_location": {}, "cdr_token": {}, "tariffs": [{"elements": []}]}, LoadModule.CDRS),
        ({"kwh": 1, "cdr_token": {}}, LoadModule.SESSIONS),
        ({"contract_id": "C", "whitelist": "ALWAYS"}, LoadModule.TOKENS),
    ],
)
def test_module_is_inferred_from_fields_only_its_objects_have(obj: dict[str, Any], module: LoadModule) -> None:
    assert infer_module([obj, "noise", {"unknown": 1}]) is module


def test_an_evse_is_not_taken_for_a_location() -> None:
    with pytest.raises(LoadFileError, match="pass --module"):
        infer_module([{"uid": "E1", "coordinates": {}, "connectors": []}])


def test_objects_of_two_modules_are_named_with_their_first_index() -> None:
    with pytest.raises(LoadFileError, match=r"locations \(first at index 0\), tariffs \(first at index 2\)"):
        infer_module([{"evses": []}, {"evses": []}, {"elements": []}])


def test_stamp_fills_only_what_is_missing_and_children_inherit_their_parents() -> None:
    doc: dict[str, Any] = {
        "evses": [
            {"connectors": [{"id": "1"}, {"id": "2", "last_updated": "2024-01-01T00:00:00Z"}]},
            {"last_updated": "2024-02-02T00:00:00Z", "connectors": [{"id": "1"}]},
        ]
    }
    stamp(doc, NOW, nested=True)
    assert doc["last_updated"] == NOW
    first, second = doc["evses"]
    assert first["last_updated"] == NOW
    assert [c["last_updated"] for c in first["connectors"]] == [NOW, "2024-01-01T00:00:00Z"]
    assert second["connectors"][0]["last_updated"] == "2024-02-02T00:00:00Z"


def test_stamp_keeps_an_invalid_given_value_for_validation_and_children_take_now() -> None:
    doc: dict[str, Any] = {"last_updated": "soon", "evses": [{"uid": "E1"}]}
    stamp(doc, NOW, nested=True)
    assert doc["last_updated"] == "soon"
    assert doc["evses"][0]["last_updated"] == NOW


def test_stamp_without_nested_leaves_lists_alone() -> None:
    doc: dict[str, Any] = {"charging_periods": [{}], "evses": [{}]}
    stamp(doc, NOW)
    assert doc == {"charging_periods": [{}], "evses": [{}], "last_updated": NOW}


@pytest.mark.parametrize(
    ("configured", "header", "expected"),
    [
        (None, "Bearer x", "set EVROAM_ADMIN_TOKEN"),
        ("", "Bearer x", "set EVROAM_ADMIN_TOKEN"),
        ("secret", None, "missing admin token"),
        ("secret", "Token secret", "missing admin token"),
        ("secret", "Bearer  ", "missing admin token"),
        ("secret", "Bearer secreT", "wrong admin token"),
    ],
)
def test_admin_token_check_refuses(configured: str | None, header: str | None, expected: str) -> None:
    with pytest.raises(UnauthorizedError, match=expected) as raised:
        check_admin_token(configured, header)
    assert raised.value.http_status == 401
    assert "secret" not in raised.value.message


def test_admin_token_check_accepts_bearer_in_any_case() -> None:
    check_admin_token("secret", "Bearer secret")
    check_admin_token("secret", "bearer  secret ")
