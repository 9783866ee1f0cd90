"""What enters the outbox: changes of the objects our parties own in the modules we push, with what changed."""

from __future__ import annotations

from collections.abc import Iterable

from evroam.delivery.deltas import delta_between
from evroam.delivery.routes import DELIVERABLE, owner_parties
from evroam.store.interface import ObjectKey, PartyRecord, StoredObject

__all__ = ["OwnChanges"]


class OwnChanges:
    """The store's `ChangeRecorder` for a node hosting `parties`."""

    def __init__(self, parties: Iterable[PartyRecord]) -> None:
        hosted = list(parties)
        self._owners = {module: owner_parties(hosted, module) for module in DELIVERABLE}

    def records(self, module: str, key: ObjectKey) -> bool:
        owners = self._owners.get(module)
        return owners is not None and (key.country_code.upper(), key.party_id.upper()) in owners

    def hint(self, module: str, before: StoredObject, after: StoredObject) -> str | None:
        return delta_between(module, before.data, after.data)
