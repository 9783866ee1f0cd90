"""Unit tests for pagination of Sender list GETs (transport_and_format_pagination)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.datastructures import QueryParams

from evroam.errors import InvalidParametersError
from evroam.transport.pagination import PageRequest, page_headers, parse_page_request

CAP = 100
URL = "https://cpo.example.com/ocpi/2.2.1/locations"


def _link_params(link: str) -> tuple[str, dict[str, list[str]]]:
    m = re.fullmatch(r'<([^>]+)>; rel="next"', link)
    assert m is not None, link
    parts = urlsplit(m.group(1))
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


# --- parse_page_request ---------------------------------------------------------------------------------


def test_defaults_are_offset_zero_and_limit_equal_to_the_cap() -> None:
    page = parse_page_request({}, CAP)
    assert page == PageRequest(offset=0, limit=CAP, date_from=None, date_to=None)


def test_empty_parameters_count_as_absent() -> None:
    page = parse_page_request({"offset": "", "limit": "", "date_from": "", "date_to": ""}, CAP)
    assert page == PageRequest(offset=0, limit=CAP)


def test_offset_and_limit_within_the_cap_are_taken_as_given() -> None:
    page = parse_page_request({"offset": "20", "limit": "10"}, CAP)
    assert (page.offset, page.limit) == (20, 10)


@pytest.mark.parametrize("limit", ["101", "2000", "999999999999"])
def test_limit_above_the_cap_is_clamped_to_the_cap(limit: str) -> None:
    assert parse_page_request({"limit": limit}, CAP).limit == CAP


def test_limit_equal_to_the_cap_is_kept() -> None:
    assert parse_page_request({"limit": "100"}, CAP).limit == 100


def test_limit_zero_is_allowed() -> None:
    assert parse_page_request({"limit": "0"}, CAP).limit == 0


@pytest.mark.parametrize("name", ["offset", "limit"])
@pytest.mark.parametrize("value", ["-1", "-100"])
def test_negative_offset_or_limit_is_invalid_parameters(name: str, value: str) -> None:
    with pytest.raises(InvalidParametersError, match=f"{name} must not be negative") as info:
        parse_page_request({name: value}, CAP)
    assert info.value.ocpi_status == 2001


@pytest.mark.parametrize("name", ["offset", "limit"])
@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", "0x10", "ten", "9" * 5000])
def test_non_integer_offset_or_limit_is_invalid_parameters(name: str, value: str) -> None:
    with pytest.raises(InvalidParametersError, match=f"{name} must be an integer") as info:
        parse_page_request({name: value}, CAP)
    assert info.value.http_status == 400
    assert len(info.value.message) < 100  # the offending value is quoted, but truncated


def test_date_from_and_date_to_are_parsed_in_every_form() -> None:
    page = parse_page_request({"date_from": "2019-01-01T00:00:00", "date_to": "2019-01-02T00:00:00.5Z"}, CAP)
    assert page.date_from == datetime(2019, 1, 1, tzinfo=UTC)
    assert page.date_to == datetime(2019, 1, 2, 0, 0, 0, 500_000, tzinfo=UTC)


def test_dates_work_from_starlette_query_params() -> None:
    query = QueryParams("date_from=2019-01-01T00%3A00%3A00Z&offset=5&limit=7")
    page = parse_page_request(query, CAP)
    assert page == PageRequest(offset=5, limit=7, date_from=datetime(2019, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_invalid_dates_are_invalid_parameters_naming_the_parameter(name: str) -> None:
    with pytest.raises(InvalidParametersError, match=f"query parameter {name}: not an OCPI DateTime"):
        parse_page_request({name: "last tuesday"}, CAP)
    with pytest.raises(InvalidParametersError, match=f"query parameter {name}: not a valid date"):
        parse_page_request({name: "2019-02-30T00:00:00Z"}, CAP)


def test_date_from_may_be_required() -> None:
    with pytest.raises(InvalidParametersError, match="date_from is required"):
        parse_page_request({"limit": "5"}, CAP, require_date_from=True)
    page = parse_page_request({"date_from": "2019-01-01T00:00:00Z"}, CAP, require_date_from=True)
    assert page.date_from == datetime(2019, 1, 1, tzinfo=UTC)


def test_date_window_is_inclusive_from_and_exclusive_to() -> None:
    page = parse_page_request({"date_from": "2019-01-01T00:00:00Z", "date_to": "2019-01-02T00:00:00Z"}, CAP)
    assert page.date_from is not None
    assert page.date_to is not None

    def in_window(last_updated: datetime) -> bool:
        assert page.date_from is not None
        assert page.date_to is not None
        return page.date_from <= last_updated < page.date_to

    assert in_window(datetime(2019, 1, 1, tzinfo=UTC))
    assert not in_window(datetime(2019, 1, 2, tzinfo=UTC))


# --- page_headers ---------------------------------------------------------------------------------------


def test_headers_carry_total_count_and_the_cap_as_x_limit() -> None:
    headers = page_headers(URL, PageRequest(offset=0, limit=CAP), total=42, cap=CAP)
    assert headers["X-Total-Count"] == "42"
    assert headers["X-Limit"] == "100"


def test_no_link_on_the_last_page() -> None:
    headers = page_headers(URL, PageRequest(offset=0, limit=CAP), total=100, cap=CAP)
    assert "Link" not in headers
    headers = page_headers(URL, PageRequest(offset=200, limit=CAP), total=250, cap=CAP)
    assert "Link" not in headers


def test_x_limit_is_the_cap_also_on_a_short_last_page() -> None:
    headers = page_headers(URL, PageRequest(offset=200, limit=CAP), total=203, cap=CAP)
    assert headers["X-Limit"] == "100"
    assert headers["X-Total-Count"] == "203"


def test_x_limit_is_the_cap_even_when_the_client_asked_for_fewer() -> None:
    headers = page_headers(URL, PageRequest(offset=0, limit=10), total=50, cap=CAP)
    assert headers["X-Limit"] == "100"


def test_link_points_to_the_next_page_when_more_remain() -> None:
    headers = page_headers(URL, PageRequest(offset=0, limit=CAP), total=101, cap=CAP)
    base, params = _link_params(headers["Link"])
    assert base == URL
    assert params == {"offset": ["100"], "limit": ["100"]}


def test_link_keeps_the_date_filters() -> None:
    page = PageRequest(
        offset=10,
        limit=10,
        date_from=datetime(2019, 1, 1, tzinfo=UTC),
        date_to=datetime(2019, 1, 2, 12, 30, 0, 250_000, tzinfo=UTC),
    )
    _, params = _link_params(page_headers(URL, page, total=500, cap=CAP)["Link"])
    assert params == {
        "date_from": ["2019-01-01T00:00:00Z"],
        "date_to": ["2019-01-02T12:30:00.250Z"],
        "offset": ["20"],
        "limit": ["10"],
    }


def test_link_uses_the_capped_limit_when_the_client_asked_for_more() -> None:
    page = parse_page_request({"limit": "2000"}, CAP)
    headers = page_headers(URL, page, total=1000, cap=CAP)
    _, params = _link_params(headers["Link"])
    assert params == {"offset": ["100"], "limit": ["100"]}
    assert headers["X-Limit"] == "100"


def test_following_links_visits_every_offset_once() -> None:
    total, offsets = 250, []
    page = parse_page_request({"limit": "1000"}, CAP)
    while True:
        offsets.append(page.offset)
        headers = page_headers(URL, page, total=total, cap=CAP)
        if "Link" not in headers:
            break
        _, params = _link_params(headers["Link"])
        page = parse_page_request({k: v[0] for k, v in params.items()}, CAP)
    assert offsets == [0, 100, 200]


def test_no_link_when_limit_is_zero() -> None:
    headers = page_headers(URL, PageRequest(offset=0, limit=0), total=10, cap=CAP)
    assert "Link" not in headers
    assert headers["X-Total-Count"] == "10"


def test_empty_result_has_zero_total_and_no_link() -> None:
    headers = page_headers(URL, PageRequest(offset=0, limit=CAP), total=0, cap=CAP)
    assert headers == {"X-Total-Count": "0", "X-Limit": "100"}


def test_dates_in_link_are_percent_encoded() -> None:
    page = PageRequest(offset=0, limit=1, date_from=datetime(2019, 1, 1, tzinfo=UTC))
    link = page_headers(URL, page, total=2, cap=CAP)["Link"]
    assert "date_from=2019-01-01T00%3A00%3A00Z" in link
