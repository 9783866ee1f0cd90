"""Sender interfaces between in-process nodes: the CPO's lists of locations, sessions, CDRs and tariffs (and
one Location, EVSE or Connector), the eMSP's list of tokens.

The owner's objects are seeded through its store with the module services (there is no back-office API
yet); everything else is black-box, through the Sender's ASGI app with the token its peer registered.
The CPO caps pages at 4 objects. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from evroam.modules.cdrs.service import CDRS
from evroam.modules.locations.service import LocationPath, patch_at, put_at
from evroam.modules.objects import ObjectKind
from evroam.modules.sessions.service import SESSIONS
from evroam.modules.tariffs.service import TARIFFS
from evroam.modules.tokens.service import TOKENS
from evroam.node import Node
from evroam.parties.initiate import issue_registration_token
from evroam.store.interface import PutOutcome

from support.nodes import (
    Api,
    InProcessNetwork,
    Roaming,
    at,
    cdr_body,
    cdr_token_body,
    connect_cpo_and_emsp,
    connector_body,
    evse_body,
    location_body,
    session_body,
    tariff_body,
    token_body,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

CAP = 4
SENDER = "/ocpi/2.2.1/sender"
EARLY = "2024-01-01T00:00:00Z"
NEXT_RE = re.compile(r'^<([^>]+)>; rel="next"$')


@dataclass(frozen=True)
class Parties:
    """A CPO with two eMSPs registered at it (NL-EMS and NL-EM2)."""

    network: InProcessNetwork
    cpo: Node
    emsp: Node
    emsp2: Node
    first: Roaming
    second: Roaming

    @property
    def as_emsp(self) -> Api:
        """The CPO's Sender interfaces, called by the first eMSP."""
        return self.first.at_cpo

    @property
    def as_emsp2(self) -> Api:
        return self.second.at_cpo

    @property
    def as_cpo(self) -> Api:
        """The first eMSP's Sender interfaces, called by the CPO."""
        return self.first.at_emsp


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def connected(module_network: InProcessNetwork) -> Parties:
    first = await connect_cpo_and_emsp(module_network, page_limit=CAP, emsp_settings={"page_limit": CAP})
    second = await connect_cpo_and_emsp(module_network, cpo=first.cpo, emsp_host="emsp2.test", emsp_party="NL-EM2-EMSP")
    # As when serving: list pages come from memory until their data changes, which every test here
    # exercises by asking again after writing.
    first.cpo.watch_changes()
    first.emsp.watch_changes()
    return Parties(module_network, first.cpo, first.emsp, second.emsp, first, second)


@pytest_asyncio.fixture(loop_scope="module")
async def parties(connected: Parties) -> AsyncIterator[Parties]:
    yield connected
    await connected.network.clear_objects()


# -- seeding the owner's objects -------------------------------------------------------------------------------

KINDS: dict[str, ObjectKind] = {"sessions": SESSIONS, "cdrs": CDRS, "tariffs": TARIFFS, "tokens": TOKENS}


async def seed(node: Node, module: str, body: dict[str, Any]) -> None:
    if module == "locations":
        path = LocationPath(body["country_code"], body["party_id"], body["id"])
        written = await put_at(node.store, path, body)
    else:
        kind = KINDS[module]
        key = kind.key(body["country_code"], body["party_id"], body[kind.id_field], body.get("type", ""))
        written = await kind.put(node.store, key, body, insert_only=module == "cdrs")
    assert written.outcome in (PutOutcome.CREATED, PutOutcome.UPDATED)


def numbered(module: str) -> Callable[[int, str], dict[str, Any]]:
    """Object number `i` of the module with the given last_updated (ids N00, N01, ...)."""

    def make(i: int, last_updated: str) -> dict[str, Any]:
        ident = f"N{i:02d}"
        if module == "locations":
            return location_body(ident, last_updated=last_updated)
        if module == "sessions":
            return session_body(ident, last_updated=last_updated)
        if module == "cdrs":
            return cdr_body(ident, last_updated=last_updated)
        if module == "tariffs":
            return tariff_body(ident, last_updated=last_updated)
        return token_body(ident, last_updated=last_updated)

    return make


def ident(obj: dict[str, Any]) -> str:
    return str(obj.get("id") or obj["uid"])


def next_link(response: httpx.Response) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    match = NEXT_RE.match(link)
    assert match, link
    return match.group(1)


async def crawl(api: Api, url: str, params: dict[str, str]) -> tuple[list[dict[str, Any]], list[httpx.Response]]:
    """Every page of a list, following `Link` until the last page."""
    objects: list[dict[str, Any]] = []
    pages: list[httpx.Response] = []
    response = await api.get(url, params=params)
    while True:
        pages.append(response)
        data = response.json()["data"]
        assert isinstance(data, list)
        objects.extend(data)
        link = next_link(response)
        if link is None:
            return objects, pages
        assert len(pages) < 50, "Link never ends"
        response = await api.get(link)


def owner_and_caller(parties: Parties, module: str) -> tuple[Node, Api]:
    """Who owns the module's objects (Sender) and the client its peer calls it with."""
    if module == "tokens":
        return parties.emsp, parties.as_cpo
    return parties.cpo, parties.as_emsp


MODULES = ["locations", "sessions", "cdrs", "tariffs", "tokens"]


# -- pagination ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", MODULES)
async def test_following_links_yields_every_object_once_in_stable_order(parties: Parties, module: str) -> None:
    owner, api = owner_and_caller(parties, module)
    make = numbered(module)
    count = 10
    for i in range(count):
        await seed(owner, module, make(i, at(i)))
    # An update keeps the object's place in the order.
    await seed(owner, module, make(0, at(30))) if module != "cdrs" else None
    url = f"{SENDER}/{module}"

    objects, pages = await crawl(api, url, {"date_from": EARLY, "limit": "1000"})
    assert [ident(o) for o in objects] == [f"N{i:02d}" for i in range(count)]
    assert [len(p.json()["data"]) for p in pages] == [4, 4, 2]
    for page in pages:
        assert page.headers["X-Total-Count"] == str(count)
        assert page.headers["X-Limit"] == str(CAP)
    first_link = urlsplit(next_link(pages[0]) or "")
    assert f"{first_link.scheme}://{first_link.netloc}{first_link.path}" == f"{owner.base_url}{url}"
    assert parse_qs(first_link.query) == {"date_from": [EARLY], "offset": ["4"], "limit": ["4"]}
    assert next_link(pages[-1]) is None
    # Exactly what the owner stored.
    expected = make(count - 1, at(count - 1))
    assert objects[-1] == expected


@pytest.mark.parametrize("module", MODULES)
async def test_link_keeps_both_date_filters_and_a_smaller_limit(parties: Parties, module: str) -> None:
    owner, api = owner_and_caller(parties, module)
    make = numbered(module)
    for i in range(8):
        await seed(owner, module, make(i, at(i)))
    params = {"date_from": at(1), "date_to": at(7), "limit": "2"}
    objects, pages = await crawl(api, f"{SENDER}/{module}", params)
    assert [ident(o) for o in objects] == [f"N{i:02d}" for i in range(1, 7)]
    assert len(pages) == 3
    assert all(p.headers["X-Total-Count"] == "6" and p.headers["X-Limit"] == str(CAP) for p in pages)
    query = parse_qs(urlsplit(next_link(pages[1]) or "").query)
    assert query == {"date_from": [at(1)], "date_to": [at(7)], "offset": ["4"], "limit": ["2"]}


@pytest.mark.parametrize("module", MODULES)
async def test_date_from_is_inclusive_and_date_to_exclusive(parties: Parties, module: str) -> None:
    owner, api = owner_and_caller(parties, module)
    make = numbered(module)
    for i in range(1, 6):
        await seed(owner, module, make(i, at(i)))
    response = await api.get(f"{SENDER}/{module}", params={"date_from": at(2), "date_to": at(4)})
    assert [ident(o) for o in response.json()["data"]] == ["N02", "N03"]
    assert response.headers["X-Total-Count"] == "2"
    assert "Link" not in response.headers
    # Other DateTime forms of the same instants select the same objects.
    response = await api.get(
        f"{SENDER}/{module}", params={"date_from": "2024-03-01T10:02:00.000", "date_to": "2024-03-01T10:04:00"}
    )
    assert [ident(o) for o in response.json()["data"]] == ["N02", "N03"]


@pytest.mark.parametrize("module", MODULES)
async def test_offset_skips_and_an_empty_window_is_an_empty_page(parties: Parties, module: str) -> None:
    owner, api = owner_and_caller(parties, module)
    make = numbered(module)
    for i in range(3):
        await seed(owner, module, make(i, at(i)))
    response = await api.get(f"{SENDER}/{module}", params={"date_from": EARLY, "offset": "1"})
    assert [ident(o) for o in response.json()["data"]] == ["N01", "N02"]
    assert response.headers["X-Total-Count"] == "3"
    response = await api.get(f"{SENDER}/{module}", params={"date_from": EARLY, "offset": "7"})
    assert response.json()["data"] == []
    assert "Link" not in response.headers
    response = await api.get(f"{SENDER}/{module}", params={"date_from": at(50)})
    assert response.json()["data"] == []
    assert response.headers["X-Total-Count"] == "0"
    assert response.headers["X-Limit"] == str(CAP)


@pytest.mark.parametrize("module", MODULES)
async def test_bad_pagination_parameters_are_2001(parties: Parties, module: str) -> None:
    _, api = owner_and_caller(parties, module)
    url = f"{SENDER}/{module}"
    for params in (
        {"date_from": "yesterday"},
        {"date_from": EARLY, "offset": "-1"},
        {"date_from": EARLY, "limit": "x"},
    ):
        await api.get(url, params=params, status=400, ocpi=2001)


async def test_sessions_list_requires_date_from(parties: Parties) -> None:
    response = await parties.as_emsp.get(f"{SENDER}/sessions", status=400, ocpi=2001)
    assert "date_from" in response.json()["status_message"]
    await parties.as_emsp.get(f"{SENDER}/sessions", params={"date_to": at(5)}, status=400, ocpi=2001)
    # The other lists do not need it.
    for module in ("locations", "cdrs", "tariffs"):
        assert (await parties.as_emsp.get(f"{SENDER}/{module}")).json()["data"] == []
    assert (await parties.as_cpo.get(f"{SENDER}/tokens")).json()["data"] == []


# -- who sees what -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["sessions", "cdrs"])
async def test_sessions_and_cdrs_are_listed_only_to_the_owner_of_their_token(parties: Parties, module: str) -> None:
    make = numbered(module)
    for i in range(3):
        await seed(parties.cpo, module, make(i, at(i)))
    url = f"{SENDER}/{module}"
    params = {"date_from": EARLY}
    response = await parties.as_emsp2.get(url, params=params)
    assert response.json()["data"] == []
    assert response.headers["X-Total-Count"] == "0"

    for i in range(3, 5):
        body = make(i, at(i))
        body["cdr_token"] = cdr_token_body("nl", "em2", f"TOKEN{i}")
        await seed(parties.cpo, module, body)
    response = await parties.as_emsp2.get(url, params=params)
    assert [ident(o) for o in response.json()["data"]] == ["N03", "N04"]
    assert response.headers["X-Total-Count"] == "2"
    response = await parties.as_emsp.get(url, params=params)
    assert [ident(o) for o in response.json()["data"]] == ["N00", "N01", "N02"]
    assert response.headers["X-Total-Count"] == "3"


async def test_tariffs_and_published_locations_are_listed_to_every_emsp(parties: Parties) -> None:
    await seed(parties.cpo, "tariffs", tariff_body())
    await seed(parties.cpo, "locations", location_body())
    for api in (parties.as_emsp, parties.as_emsp2):
        assert await api.data(f"{SENDER}/tariffs") == [tariff_body()]
        assert await api.data(f"{SENDER}/locations") == [location_body()]


async def test_unpublished_locations_are_shown_only_to_owners_of_matching_tokens(parties: Parties) -> None:
    cpo = parties.cpo
    await seed(cpo, "locations", location_body("PUBLIC"))
    by_uid = location_body("BY-UID", publish=False, publish_allowed_to=[{"uid": "TOK1", "type": "RFID"}])
    by_visual = location_body(
        "BY-VISUAL", publish=False, publish_allowed_to=[{"visual_number": "V-1", "issuer": "Test eMSP"}]
    )
    by_group = location_body("BY-GROUP", publish=False, publish_allowed_to=[{"group_id": "fleet"}])
    private = location_body("PRIVATE", publish=False)
    for body in (by_uid, by_visual, by_group, private):
        await seed(cpo, "locations", body)
    # Tokens the eMSPs pushed to the CPO.
    await seed(cpo, "tokens", token_body("tok1"))
    await seed(cpo, "tokens", token_body("OTHER", cc="NL", pid="EM2", visual_number="V-1"))
    await seed(cpo, "tokens", token_body("TOK1", cc="NL", pid="EM2", type_="APP_USER", group_id="FLEET"))

    listed = await parties.as_emsp.get(f"{SENDER}/locations")
    assert [o["id"] for o in listed.json()["data"]] == ["PUBLIC", "BY-UID"]
    assert listed.headers["X-Total-Count"] == "2"
    listed = await parties.as_emsp2.get(f"{SENDER}/locations")
    assert [o["id"] for o in listed.json()["data"]] == ["PUBLIC", "BY-VISUAL", "BY-GROUP"]
    assert listed.headers["X-Total-Count"] == "3"

    assert await parties.as_emsp.data(f"{SENDER}/locations/BY-UID") == by_uid
    assert await parties.as_emsp.data(f"{SENDER}/locations/BY-UID/EVSE1") == by_uid["evses"][0]
    await parties.as_emsp2.get(f"{SENDER}/locations/BY-UID", status=404, ocpi=2000)
    await parties.as_emsp2.get(f"{SENDER}/locations/BY-UID/EVSE1/1", status=404, ocpi=2000)
    await parties.as_emsp.get(f"{SENDER}/locations/PRIVATE", status=404, ocpi=2000)
    await parties.as_emsp2.get(f"{SENDER}/locations/PRIVATE", status=404, ocpi=2000)


# -- one Location, EVSE or Connector -------------------------------------------------------------------------


async def test_get_one_location_evse_or_connector(parties: Parties) -> None:
    body = location_body(
        evses=[evse_body("EVSE1"), evse_body("EVSE2", connectors=[connector_body("1"), connector_body("2")])]
    )
    await seed(parties.cpo, "locations", body)
    api = parties.as_emsp
    assert await api.data(f"{SENDER}/locations/LOC1") == body
    assert await api.data(f"{SENDER}/locations/LOC1/EVSE2") == body["evses"][1]
    assert await api.data(f"{SENDER}/locations/LOC1/EVSE2/2") == body["evses"][1]["connectors"][1]
    assert await api.data(f"{SENDER}/locations/loc1/evse2/2") == body["evses"][1]["connectors"][1]
    await api.get(f"{SENDER}/locations/NOPE", status=404, ocpi=2000)
    await api.get(f"{SENDER}/locations/LOC1/NOPE", status=404, ocpi=2000)
    await api.get(f"{SENDER}/locations/LOC1/EVSE2/3", status=404, ocpi=2000)


async def test_a_connector_change_brings_the_location_into_a_later_date_window(parties: Parties) -> None:
    cpo = parties.cpo
    await seed(cpo, "locations", location_body(evses=[evse_body("EVSE1"), evse_body("EVSE2")]))
    url = f"{SENDER}/locations"
    assert await parties.as_emsp.data(url, params={"date_from": at(5)}) == []

    written = await patch_at(
        cpo.store, LocationPath("NL", "CPO", "LOC1", "EVSE2", "1"), {"max_amperage": 16, "last_updated": at(6)}
    )
    assert written.outcome == PutOutcome.UPDATED
    [listed] = await parties.as_emsp.data(url, params={"date_from": at(5)})
    assert listed["last_updated"] == listed["evses"][1]["last_updated"] == at(6)
    assert listed["evses"][1]["connectors"][0]["last_updated"] == at(6)
    assert listed["evses"][0]["last_updated"] == at(0)
    assert await parties.as_emsp.data(url, params={"date_from": at(7)}) == []

    await put_at(
        cpo.store, LocationPath("NL", "CPO", "LOC1", "EVSE1"), evse_body(status="CHARGING", last_updated=at(8))
    )
    [listed] = await parties.as_emsp.data(url, params={"date_from": at(7)})
    assert listed["last_updated"] == at(8)
    assert await parties.as_emsp.data(url, params={"date_to": at(6)}) == []


# -- transport ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", MODULES)
async def test_routing_headers_are_the_requests_swapped_or_ours_to_the_caller(parties: Parties, module: str) -> None:
    _, api = owner_and_caller(parties, module)
    if module == "tokens":
        ours, theirs = ("NL", "EMS"), ("NL", "CPO")
    else:
        ours, theirs = ("NL", "CPO"), ("NL", "EMS")
    params = {"date_from": EARLY}
    response = await api.get(f"{SENDER}/{module}", params=params)
    assert (response.headers["OCPI-from-country-code"], response.headers["OCPI-from-party-id"]) == ours
    assert (response.headers["OCPI-to-country-code"], response.headers["OCPI-to-party-id"]) == theirs
    routed = {
        "OCPI-from-country-code": theirs[0],
        "OCPI-from-party-id": theirs[1],
        "OCPI-to-country-code": ours[0],
        "OCPI-to-party-id": ours[1],
    }
    response = await api.get(f"{SENDER}/{module}", params=params, headers=routed)
    assert (response.headers["OCPI-from-country-code"], response.headers["OCPI-from-party-id"]) == ours
    assert (response.headers["OCPI-to-country-code"], response.headers["OCPI-to-party-id"]) == theirs


async def test_one_location_answer_carries_routing_headers(parties: Parties) -> None:
    await seed(parties.cpo, "locations", location_body())
    response = await parties.as_emsp.get(f"{SENDER}/locations/LOC1/EVSE1")
    assert response.headers["OCPI-from-party-id"] == "CPO"
    assert response.headers["OCPI-to-party-id"] == "EMS"
    response = await parties.as_emsp2.get(f"{SENDER}/locations/LOC1")
    assert response.headers["OCPI-to-party-id"] == "EM2"


@pytest.mark.parametrize("module", MODULES)
async def test_lists_need_a_registered_token_and_offer_only_get(parties: Parties, module: str) -> None:
    owner, api = owner_and_caller(parties, module)
    host = owner.base_url.removeprefix("http://")
    _, token_a = await issue_registration_token(owner, "newcomer")
    for token in (None, token_a, "not-a-token"):
        await parties.network.api(host, token).get(f"{SENDER}/{module}", status=401, ocpi=2000)
    await api.post(f"{SENDER}/{module}", {}, status=405, ocpi=2000)
    await api.delete(f"{SENDER}/{module}", status=405, ocpi=2000)


async def test_location_objects_offer_only_get(parties: Parties) -> None:
    await seed(parties.cpo, "locations", location_body())
    api = parties.as_emsp
    for url in (f"{SENDER}/locations/LOC1", f"{SENDER}/locations/LOC1/EVSE1", f"{SENDER}/locations/LOC1/EVSE1/1"):
        await api.put(url, location_body(), status=405, ocpi=2000)
        await api.patch(url, {"last_updated": at(1)}, status=405, ocpi=2000)
        await api.delete(url, status=405, ocpi=2000)
    assert await api.data(f"{SENDER}/locations/LOC1") == location_body()


async def test_routing_headers_given_only_in_part_are_completed(parties: Parties) -> None:
    api = parties.as_emsp
    only_from = {"OCPI-from-country-code": "NL", "OCPI-from-party-id": "EMS"}
    response = await api.get(f"{SENDER}/tariffs", headers=only_from)
    assert response.headers["OCPI-from-country-code"] == "NL"
    assert response.headers["OCPI-from-party-id"] == "CPO"
    assert response.headers["OCPI-to-country-code"] == "NL"
    assert response.headers["OCPI-to-party-id"] == "EMS"
    only_to = {"OCPI-to-country-code": "NL", "OCPI-to-party-id": "CPO"}
    response = await parties.as_emsp2.get(f"{SENDER}/tariffs", headers=only_to)
    assert response.headers["OCPI-from-party-id"] == "CPO"
    assert response.headers["OCPI-to-party-id"] == "EM2"
