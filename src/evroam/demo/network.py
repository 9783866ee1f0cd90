"""A generated charging network for the demo: a CPO's Locations (EVSEs, Connectors) and Tariffs, and an
eMSP's drivers (Tokens). The same seed gives the same network."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from evroam.types import format_datetime

__all__ = ["DEMO_AC_EVSE", "DEMO_EVSE", "DEMO_LOCATION", "Network", "drivers", "network"]

DEMO_LOCATION: Final = "LOC0001"
"""The Location the story's sessions charge at: free, remote-start capable, its first EVSE a DC charger,
its second an AC one."""
DEMO_EVSE: Final = "LOC0001-E1"
DEMO_AC_EVSE: Final = "LOC0001-E2"

# (city, latitude, longitude, street) of Dutch cities; Locations are scattered around them.
_CITIES: Final = (
    ("Amsterdam", 52.3676, 4.9041, "Stationsplein"),
    ("Rotterdam", 51.9244, 4.4777, "Coolsingel"),
    ("Utrecht", 52.0907, 5.1214, "Vredenburg"),
    ("Den Haag", 52.0705, 4.3007, "Spui"),
    ("Eindhoven", 51.4416, 5.4697, "Stratumseind"),
    ("Groningen", 53.2194, 6.5665, "Grote Markt"),
    ("Arnhem", 51.9851, 5.8987, "Jansbinnensingel"),
    ("Zwolle", 52.5168, 6.0830, "Melkmarkt"),
)
_FACILITIES: Final = ("SUPERMARKET", "RESTAURANT", "PARKING_LOT", "HOTEL", "MALL", "TRAIN_STATION")
_CAPABLE: Final = ["REMOTE_START_STOP_CAPABLE", "CHARGING_PROFILE_CAPABLE", "RFID_READER", "UNLOCK_CAPABLE"]
# Most EVSEs are free; some are in use or out of order, as on a real network.
_STATUSES: Final = ("AVAILABLE", "CHARGING", "OUTOFORDER", "BLOCKED")
_STATUS_WEIGHTS: Final = (70, 20, 5, 5)


@dataclass(frozen=True)
class Network:
    """What the CPO's back office uploads: Tariffs first (Connectors name them), then Locations."""

    tariffs: list[dict[str, Any]]
    locations: list[dict[str, Any]]

    @property
    def evse_count(self) -> int:
        return sum(len(loc["evses"]) for loc in self.locations)

    @property
    def connector_count(self) -> int:
        return sum(len(evse["connectors"]) for loc in self.locations for evse in loc["evses"])


def _tariffs(cc: str, pid: str, stamp: str) -> list[dict[str, Any]]:
    def tariff(tariff_id: str, text: str, *elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "country_code": cc,
            "party_id": pid,
            "id": tariff_id,
            "currency": "EUR",
            "tariff_alt_text": [{"language": "en", "text": text}],
            "elements": list(elements),
            "last_updated": stamp,
            **extra,
        }

    def component(kind: str, price: str, step: int = 1) -> dict[str, Any]:
        return {"type": kind, "price": price, "vat": 21, "step_size": step}

    return [
        tariff(
            "AC-STANDARD",
            "0.35 EUR/kWh, at least 0.50 EUR",
            {"price_components": [component("ENERGY", "0.35")]},
            min_price={"excl_vat": "0.50", "incl_vat": "0.61"},
        ),
        tariff(
            "AC-PEAK",
            "0.42 EUR/kWh 07:00-21:00, 0.29 EUR/kWh at night",
            {
                "price_components": [component("ENERGY", "0.42")],
                "restrictions": {"start_time": "07:00", "end_time": "21:00"},
            },
            {"price_components": [component("ENERGY", "0.29")]},
        ),
        tariff(
            "AC-PARKING",
            "0.31 EUR/kWh, 1.20 EUR/h charging, 6 EUR/h parked once full",
            {"price_components": [component("ENERGY", "0.31"), component("TIME", "1.20", 60)]},
            {"price_components": [component("PARKING_TIME", "6.00", 300)]},
        ),
        tariff(
            "DC-FAST",
            "1 EUR per session and 0.59 EUR/kWh",
            {"price_components": [component("FLAT", "1.00")]},
            {"price_components": [component("ENERGY", "0.59")]},
        ),
    ]


def _connector(rng: random.Random, n: int, dc: bool, stamp: str, power: int | None = None) -> dict[str, Any]:
    if dc:
        power = power or rng.choice((50_000, 150_000))
        return {
            "id": str(n),
            "standard": "IEC_62196_T2_COMBO",
            "format": "CABLE",
            "power_type": "DC",
            "max_voltage": 920,
            "max_amperage": power // 920 + 1,
            "max_electric_power": power,
            "tariff_ids": ["DC-FAST"],
            "last_updated": stamp,
        }
    amps = rng.choice((16, 32))
    return {
        "id": str(n),
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": amps,
        "tariff_ids": [rng.choice(("AC-STANDARD", "AC-PEAK", "AC-PARKING"))],
        "last_updated": stamp,
    }


def _status(rng: random.Random) -> str:
    return rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]


def network(count: int, *, seed: int, country_code: str, party_id: str, now: datetime) -> Network:
    """`count` Locations of one CPO party around Dutch cities, with one to four EVSEs each (a third of
    the sites DC fast chargers), and the four Tariffs their Connectors name."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible network, nothing secret)
    stamp = format_datetime(now)
    locations: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        city, lat, lon, street = _CITIES[(n - 1) % len(_CITIES)]
        location_id = f"LOC{n:04d}"
        dc = n > 1 and rng.random() < 1 / 3
        evses = []
        for e in range(1, rng.randint(2 if n == 1 else 1, 4) + 1):
            uid = f"{location_id}-E{e}"
            # The story's station: a fast charger next to an AC one.
            fast = dc or (n == 1 and e == 1)
            connectors = [_connector(rng, 1, fast, stamp, 150_000 if n == 1 else None)]
            if not fast and rng.random() < 0.3:
                connectors.append(_connector(rng, 2, False, stamp))
            evses.append(
                {
                    "uid": uid,
                    "evse_id": f"{country_code}*{party_id}*E{n:04d}{e}",
                    "status": "AVAILABLE" if n == 1 else _status(rng),
                    "capabilities": _CAPABLE,
                    "connectors": connectors,
                    "last_updated": stamp,
                }
            )
        locations.append(
            {
                "country_code": country_code,
                "party_id": party_id,
                "id": location_id,
                "publish": True,
                "name": f"{city} {rng.choice(_FACILITIES).replace('_', ' ').lower()} {n}",
                "address": f"{street} {rng.randint(1, 200)}",
                "city": city,
                "postal_code": f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGHJK')}{rng.choice('LMNPRSTVWX')}",
                "country": "NLD",
                "coordinates": {
                    "latitude": f"{lat + rng.uniform(-0.05, 0.05):.6f}",
                    "longitude": f"{lon + rng.uniform(-0.08, 0.08):.6f}",
                },
                "parking_type": rng.choice(("ON_STREET", "PARKING_LOT", "PARKING_GARAGE")),
                "evses": evses,
                "facilities": [rng.choice(_FACILITIES)],
                "time_zone": "Europe/Amsterdam",
                "last_updated": stamp,
            }
        )
    return Network(_tariffs(country_code, party_id, stamp), locations)


def drivers(count: int, *, seed: int, country_code: str, party_id: str, now: datetime) -> list[dict[str, Any]]:
    """`count` drivers of one eMSP party, each with an RFID card; every other one also uses the app
    (an APP_USER token). Cards must be authorized in real time (whitelist NEVER) except every third,
    which may charge offline too."""
    rng = random.Random(seed + 1)  # noqa: S311 (reproducible drivers, nothing secret)
    stamp = format_datetime(now)
    tokens: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        contract = f"{country_code}-{party_id}-C{n:08d}"

        def token(uid: str, kind: str, whitelist: str, contract: str = contract) -> dict[str, Any]:
            return {
                "country_code": country_code,
                "party_id": party_id,
                "uid": uid,
                "type": kind,
                "contract_id": contract,
                "issuer": "evroam demo eMSP",
                "valid": True,
                "whitelist": whitelist,
                "language": "nl",
                "last_updated": stamp,
            }

        card = token(f"{rng.getrandbits(56):014X}", "RFID", "ALLOWED_OFFLINE" if n % 3 == 0 else "NEVER")
        card["visual_number"] = f"DRIVER {n:04d}"
        tokens.append(card)
        if n % 2 == 1:
            tokens.append(token(f"APP-{n:06d}", "APP_USER", "ALLOWED"))
    return tokens
