"""The demo's generated network and drivers: valid OCPI objects, reproducible, and fit for the story."""

from __future__ import annotations

from datetime import UTC, datetime

from evroam.demo.network import DEMO_EVSE, DEMO_LOCATION, drivers, network
from evroam.modules.locations.models import Location
from evroam.modules.tariffs.models import Tariff
from evroam.modules.tokens.models import Token

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_every_object_is_valid_and_every_named_tariff_exists() -> None:
    net = network(120, seed=5, country_code="NL", party_id="EVR", now=NOW)
    locations = [Location.model_validate(doc) for doc in net.locations]
    tariffs = {Tariff.model_validate(doc).id for doc in net.tariffs}
    assert len(locations) == 120
    assert len(tariffs) == 4
    named = {t for loc in locations for evse in loc.evses or [] for c in evse.connectors for t in c.tariff_ids or []}
    assert named == tariffs
    assert net.evse_count == sum(len(loc.evses or []) for loc in locations)
    assert {str(evse.status.value) for loc in locations for evse in loc.evses or []} > {"AVAILABLE", "CHARGING"}
    tokens = [Token.model_validate(doc) for doc in drivers(9, seed=5, country_code="DE", party_id="EMS", now=NOW)]
    assert [t.type.value for t in tokens].count("RFID") == 9
    assert [t.type.value for t in tokens].count("APP_USER") == 5
    assert len({(t.uid, t.type) for t in tokens}) == len(tokens)


def test_the_same_seed_gives_the_same_network() -> None:
    one = network(30, seed=3, country_code="NL", party_id="EVR", now=NOW)
    assert network(30, seed=3, country_code="NL", party_id="EVR", now=NOW) == one
    assert network(30, seed=4, country_code="NL", party_id="EVR", now=NOW) != one
    assert drivers(4, seed=3, country_code="DE", party_id="EMS", now=NOW) == drivers(
        4, seed=3, country_code="DE", party_id="EMS", now=NOW
    )


def test_the_story_station_is_a_free_remote_startable_fast_charger() -> None:
    for seed in range(5):
        net = network(3, seed=seed, country_code="NL", party_id="EVR", now=NOW)
        station = Location.model_validate(net.locations[0])
        assert station.id == DEMO_LOCATION
        evse = next(e for e in station.evses or [] if e.uid == DEMO_EVSE)
        assert evse.status.value == "AVAILABLE"
        assert "REMOTE_START_STOP_CAPABLE" in {c.value for c in evse.capabilities or []}
        [connector] = evse.connectors
        assert (connector.power_type.value, connector.max_electric_power) == ("DC", 150_000)
        assert connector.tariff_ids == ["DC-FAST"]
