"""Rules shared by every module object: keys, ownership checks, PATCH merge, and write outcomes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from evroam.errors import InvalidParametersError, NotFoundError
from evroam.store.interface import ObjectKey, PutOutcome, Store, StoredObject
from evroam.transport.validation import validation_message
from evroam.types import OcpiModel, parse_datetime

__all__ = [
    "ObjectKind",
    "Written",
    "check_body_ids",
    "check_party",
    "dump",
    "load",
    "merge_patch",
    "parse_model",
    "patch_last_updated",
    "same_id",
]

M = TypeVar("M", bound=BaseModel)


def same_id(a: str, b: str) -> bool:
    """CiString ids compare case-insensitively (types_cistring_type)."""
    return a.upper() == b.upper()


def check_party(country_code: str, party_id: str, allowed: Iterable[tuple[str, str]]) -> None:
    """OCPI 2.2.1 transport_and_format_client_owned_object_push: a client may only push objects under the
    country_code/party_id of its own CredentialsRoles; anything else is answered 404 and stores nothing."""
    if (country_code.upper(), party_id.upper()) not in {(c.upper(), p.upper()) for c, p in allowed}:
        raise NotFoundError(f"{country_code}/{party_id} is not one of the parties registered for your credentials")


def check_body_ids(body: dict[str, Any], expected: dict[str, str]) -> None:
    """The object in the body must be the one the URL names (transport_and_format_errors: 2001)."""
    for field, value in expected.items():
        given = body.get(field)
        if given is not None and (not isinstance(given, str) or not same_id(given, value)):
            raise InvalidParametersError(f"/{field} {str(given)[:40]!r} does not match the URL ({value!r})")


def parse_model(model: type[M], data: dict[str, Any], prefix: str = "") -> M:
    """Validate with errors named by JSON pointer (OCPI 2001)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidParametersError(validation_message(exc, [prefix] if prefix else [])) from None


def patch_last_updated(patch: dict[str, Any]) -> datetime:
    """OCPI 2.2.1: every PATCH on Locations, Sessions and Tokens carries last_updated (2001 otherwise)."""
    raw = patch.get("last_updated")
    if raw is None:
        raise InvalidParametersError("/last_updated: a PATCH must contain last_updated")
    try:
        return parse_datetime(raw)
    except ValueError as exc:
        raise InvalidParametersError(f"/last_updated: {exc}") from None


def merge_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """transport_and_format_patch: fields in the PATCH replace the stored ones; the rest stay unchanged.
    A PATCH cannot delete information, so explicit nulls are ignored."""
    merged = dict(current)
    for field, value in patch.items():
        if value is not None:
            merged[field] = value
    return merged


def dump(doc: Any) -> bytes:
    """Compact UTF-8 JSON, the same form pydantic emits for models."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def load(obj: StoredObject) -> dict[str, Any]:
    """The stored object's JSON as a dict."""
    data: dict[str, Any] = json.loads(obj.data)
    return data


class Written:
    """How a push is answered: 201 when created, 200 otherwise; a stale push is accepted but ignored."""

    def __init__(self, outcome: PutOutcome) -> None:
        self.outcome = outcome

    @property
    def http_status(self) -> int:
        return 201 if self.outcome == PutOutcome.CREATED else 200

    @property
    def message(self) -> str | None:
        if self.outcome == PutOutcome.STALE:
            return "Not applied: the stored object has a later last_updated"
        if self.outcome == PutOutcome.EXISTS:
            return "Already received: the stored object is kept unchanged"
        return None


class ObjectKind:
    """A client-owned object type stored whole (sessions, CDRs, tariffs, tokens): how to key, validate,
    store and patch it. Locations, stored with their EVSEs and Connectors inside, have their own rules."""

    def __init__(
        self,
        module: str,
        model: type[OcpiModel],
        *,
        id_field: str = "id",
        typed: bool = False,
        append_on_patch: tuple[str, ...] = (),
        holder_field: str | None = None,
    ) -> None:
        self.module = module
        self.model = model
        self.id_field = id_field
        self.typed = typed  # tokens: the key includes the token type (`?type=`, default RFID)
        self.append_on_patch = append_on_patch
        self.holder_field = holder_field

    def key(self, country_code: str, party_id: str, object_id: str, type_: str = "") -> ObjectKey:
        return ObjectKey(country_code, party_id, object_id, type_ if self.typed else "")

    def row(self, obj: OcpiModel) -> StoredObject:
        doc = obj.to_dict()
        holder = None
        if self.holder_field is not None:
            token = doc.get(self.holder_field) or {}
            holder = (str(token.get("country_code", "")).upper(), str(token.get("party_id", "")).upper())
        key = self.key(doc["country_code"], doc["party_id"], doc[self.id_field], doc.get("type", ""))
        return StoredObject(
            key=key,
            last_updated=parse_datetime(doc["last_updated"]),
            data=dump(doc),
            holder_country_code=holder[0] if holder else None,
            holder_party_id=holder[1] if holder else None,
        )

    def validate_for(self, key: ObjectKey, body: dict[str, Any]) -> OcpiModel:
        """The body as this kind's model, after checking it is the object the URL names."""
        expected = {"country_code": key.country_code, "party_id": key.party_id, self.id_field: key.id}
        if self.typed:
            expected["type"] = key.type
        check_body_ids(body, expected)
        return parse_model(self.model, body)

    def parse_row(self, body: dict[str, Any]) -> StoredObject:
        """A pulled object (no URL to check it against), validated and ready to store."""
        return self.row(parse_model(self.model, body))

    async def put(self, store: Store, key: ObjectKey, body: dict[str, Any], *, insert_only: bool = False) -> Written:
        """PUT (POST for CDRs, insert-only): create or replace."""
        obj = self.validate_for(key, body)
        return Written(await store.put_object(self.module, self.row(obj), insert_only=insert_only))

    async def patch(self, store: Store, key: ObjectKey, patch: dict[str, Any]) -> Written:
        """PATCH: merge the given fields, keeping the rest (lists in `append_on_patch` are appended)."""
        last_updated = patch_last_updated(patch)
        expected = {self.id_field: key.id, "country_code": key.country_code, "party_id": key.party_id}
        if self.typed:
            # A token's type is part of its key: a PATCH may repeat it, never change it.
            expected["type"] = key.type
        check_body_ids(patch, expected)
        outcome = PutOutcome.UPDATED

        def change(current: StoredObject | None) -> StoredObject | None:
            nonlocal outcome
            if current is None:
                raise NotFoundError(f"{self.module} object {key.id!r} not found; PUT it first")
            if last_updated < current.last_updated:
                outcome = PutOutcome.STALE
                return None
            doc = load(current)
            merged = merge_patch(doc, patch)
            for field in self.append_on_patch:
                if patch.get(field) is not None:
                    merged[field] = list(doc.get(field) or []) + list(patch[field])
            return self.row(parse_model(self.model, merged))

        await store.mutate_object(self.module, key, change)
        return Written(outcome)

    async def get(self, store: Store, key: ObjectKey) -> bytes:
        obj = await store.get_object(self.module, key)
        if obj is None:
            raise NotFoundError(f"{self.module} object {key.id!r} not found")
        return obj.data
