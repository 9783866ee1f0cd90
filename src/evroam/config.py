"""Node settings: one explicit object, read from `EVROAM_*` variables at the edge and passed down."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from evroam.store.interface import PartyRecord
from evroam.types import Role

__all__ = ["Settings", "parse_party"]

_PARTY_RE = re.compile(r"^([A-Za-z]{2})-([A-Za-z0-9]{3})-([A-Za-z]+)$")


def parse_party(spec: str, name: str | None = None) -> PartyRecord:
    """Parse `NL-EVR-CPO` (country code, party id, role) into a party record."""
    m = _PARTY_RE.match(spec.strip())
    if m is None:
        raise ValueError(
            f"party {spec!r} is not COUNTRY-PARTY-ROLE, e.g. NL-EVR-CPO (roles: {', '.join(r.value for r in Role)})"
        )
    country_code, party_id, role = m.group(1).upper(), m.group(2).upper(), m.group(3).upper()
    try:
        parsed_role = Role(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r} in {spec!r}; use one of {', '.join(Role)}") from None
    return PartyRecord(country_code, party_id, parsed_role, name or f"evroam {country_code}-{party_id}")


class Settings(BaseSettings):
    """Everything a node needs to know; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="EVROAM_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./evroam.db"
    # PostgreSQL only: the schema to keep the node's tables in (several nodes can share one database).
    database_schema: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    host: str = "127.0.0.1"
    port: int = 8000
    # Public base URL peers use to reach this node (the versions URL is `{base_url}/ocpi/versions`).
    base_url: str = ""
    parties: Annotated[list[str], NoDecode] = Field(default_factory=list)
    business_name: str | None = None
    # Local development: allow http:// and loopback/private peer URLs (never in production).
    dev_mode: bool = False
    # Allow peer URLs on private/loopback networks while still requiring https (e.g. a LAN deployment).
    allow_private_urls: bool = False
    # Modules a peer must offer before we register with it or accept its registration (besides
    # credentials, which is always required), e.g. "locations,tokens".
    required_peer_modules: Annotated[list[str], NoDecode] = Field(default_factory=list)
    page_limit: int = Field(default=100, ge=1, le=10_000)
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    # Memory for Sender list pages kept until their data changes; 0 renders every page afresh.
    page_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    request_timeout: float = Field(default=10.0, gt=0)
    # What carries out commands and charging profiles for a CPO party's Charge Points: "sim" (the built-in
    # simulator), "none" (they are answered NOT_SUPPORTED) or "package.module:factory", a callable taking
    # the node and returning a `evroam.chargepoints.ChargePoints` (e.g. a bridge to OCPP).
    charge_points: str = Field(default="sim", pattern=r"^(sim|none|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$")
    # Seconds a peer is told to wait for a command's or profile request's result (CommandResponse.timeout);
    # a Charge Point that has not answered by then gets the result TIMEOUT.
    command_timeout: int = Field(default=30, ge=1, le=3600)
    # Simulator: seconds between meter values of running sessions, and how long a Charge Point takes to answer.
    sim_meter_interval: float = Field(default=5.0, gt=0)
    sim_answer_delay: float = Field(default=0.5, ge=0)
    # Push delivery of our objects' changes to the peers entitled to them (`evroam.delivery`): run by this
    # process (`serve`; `evroam worker` always does), requests in flight per receiving peer, how long a
    # receiver that cannot be reached is retried before it is marked out of sync (it then resyncs by pulling),
    # and how many days the delivery ledger keeps. A receiver takes pushes fastest from a few connections
    # (bench/RESULTS.md: 8 in flight beat 16 and 32, which spend more on the connections than they gain).
    deliveries: bool = True
    delivery_concurrency: int = Field(default=8, ge=1, le=1024)
    delivery_retry_window: float = Field(default=600.0, gt=0)
    delivery_log_days: float = Field(default=7.0, gt=0)
    # Resync (run by `serve`): delta pulls of every module from every peer we receive data from, at start,
    # when a peer is reachable again, and every `resync_interval` seconds (0: never on a schedule), spread
    # by up to `resync_splay` of the interval at random.
    resync: bool = True
    resync_interval: float = Field(default=6 * 3600.0, ge=0)
    resync_splay: float = Field(default=0.2, ge=0, le=1)
    log_level: str = "info"
    # Bearer token of the back-office API (/admin/api); unset means that API refuses every request.
    admin_token: str | None = None

    @field_validator("parties", "required_peer_modules", mode="before")
    @classmethod
    def _split_parties(cls, value: object) -> object:
        if isinstance(value, str):
            return [p for p in re.split(r"[,\s]+", value) if p]
        return value

    @field_validator("parties")
    @classmethod
    def _check_parties(cls, value: list[str]) -> list[str]:
        for spec in value:
            parse_party(spec)
        return value

    @property
    def effective_base_url(self) -> str:
        """The base URL, defaulting to the listening address."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def party_records(self) -> tuple[PartyRecord, ...]:
        """The parties this node hosts, parsed."""
        return tuple(parse_party(p, self.business_name) for p in self.parties)
