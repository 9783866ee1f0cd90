"""Unit tests for the peer URL policy (guard against SSRF through credentials and endpoint URLs)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from evroam.client.errors import PeerRequestError, UrlPolicyError
from evroam.client.url_policy import UrlPolicy

STRICT = UrlPolicy()
DEV = UrlPolicy(allow_http=True, allow_private=True)
LAN = UrlPolicy(allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://ocpi.example.com/ocpi/versions",
        "https://ocpi.example.com:8443/ocpi/versions?x=1#frag",
        "https://93.184.216.34/ocpi/versions",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/ocpi/versions",
        "HTTPS://OCPI.EXAMPLE.COM/ocpi/versions",
    ],
)
def test_public_https_urls_are_allowed(url: str) -> None:
    assert STRICT.check(url) == url


def test_plain_http_is_refused_unless_allowed() -> None:
    url = "http://ocpi.example.com/ocpi/versions"
    with pytest.raises(UrlPolicyError, match="plain http is not allowed"):
        STRICT.check(url)
    assert UrlPolicy(allow_http=True).check(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/ocpi/versions",
        "https://127.1.2.3/",
        "https://10.0.0.1/",
        "https://10.255.255.255/",
        "https://172.16.0.1/",
        "https://172.31.255.254/",
        "https://192.168.1.1/",
        "https://169.254.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/",  # shared address space
        "https://100.100.100.200/",  # a cloud metadata address inside it
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "https://240.0.0.1/",
        "https://[::1]/",
        "https://[::]/",
        "https://[fe80::1]/",
        "https://[fc00::1]/",
        "https://[fd12:3456::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:169.254.169.254]/",
        "https://[::ffff:10.0.0.1]/",
        "https://localhost/",
        "https://LOCALHOST:8443/",
        "https://localhost./",
        "https://api.localhost/",
        "https://printer.local/",
        "https://metadata.google.internal/",
    ],
)
def test_internal_addresses_and_names_are_refused(url: str) -> None:
    with pytest.raises(UrlPolicyError, match="not allowed"):
        STRICT.check(url)


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/", "https://10.0.0.1/", "https://[::1]/", "https://localhost/", "https://0.0.0.0/"]
)
def test_internal_addresses_are_allowed_when_private_is_allowed(url: str) -> None:
    assert LAN.check(url) == url


def test_allow_private_still_requires_https() -> None:
    with pytest.raises(UrlPolicyError, match="plain http"):
        LAN.check("http://10.0.0.1/")
    assert DEV.check("http://127.0.0.1:8000/ocpi/versions") == "http://127.0.0.1:8000/ocpi/versions"


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@ocpi.example.com/",
        "https://user@ocpi.example.com/",
        "https://:pass@ocpi.example.com/",
        "https://ocpi.example.com@127.0.0.1/",
    ],
)
def test_urls_with_userinfo_are_refused(url: str) -> None:
    with pytest.raises(UrlPolicyError, match="user credentials"):
        DEV.check(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://ocpi.example.com:70/_x",
        "ftp://ocpi.example.com/",
        "ws://ocpi.example.com/",
        "javascript:alert(1)",
        "ocpi.example.com/ocpi/versions",
        "//ocpi.example.com/ocpi/versions",
    ],
)
def test_non_http_schemes_are_refused_even_in_dev_mode(url: str) -> None:
    with pytest.raises(UrlPolicyError, match="scheme"):
        DEV.check(url)


@pytest.mark.parametrize("url", ["https:///ocpi/versions", "https://", "https://:443/", "https://./"])
def test_urls_without_host_are_refused(url: str) -> None:
    with pytest.raises(UrlPolicyError, match="no host"):
        DEV.check(url)


def test_empty_url_is_refused() -> None:
    with pytest.raises(UrlPolicyError, match="empty"):
        DEV.check("")


def test_urls_longer_than_255_characters_are_refused() -> None:
    base = "https://ocpi.example.com/"
    ok = base + "a" * (255 - len(base))
    assert STRICT.check(ok) == ok
    with pytest.raises(UrlPolicyError, match="longer than 255"):
        STRICT.check(ok + "a")


@pytest.mark.parametrize("url", ["https://ocpi.example.com:99999/", "https://[::1/", "https://ocpi.example.com:x/"])
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(UrlPolicyError, match="malformed"):
        DEV.check(url)


def test_port_zero_is_refused() -> None:
    with pytest.raises(UrlPolicyError, match="port 0"):
        DEV.check("https://ocpi.example.com:0/")


def test_policy_errors_are_peer_request_errors_carrying_the_url() -> None:
    with pytest.raises(PeerRequestError) as info:
        STRICT.check("http://ocpi.example.com/")
    assert isinstance(info.value, UrlPolicyError)
    assert info.value.url == "http://ocpi.example.com/"


# --- check_resolved -------------------------------------------------------------------------------------


async def test_localhost_is_refused_by_check_resolved() -> None:
    with pytest.raises(UrlPolicyError, match="not allowed"):
        await STRICT.check_resolved("https://localhost/ocpi/versions")


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f.0.0.1"])
async def test_hostname_resolving_to_loopback_is_refused(host: str) -> None:
    # Not address literals to ipaddress, so check() lets them through; the resolver maps them to 127.0.0.1.
    url = f"https://{host}/ocpi/versions"
    assert STRICT.check(url) == url
    with pytest.raises(UrlPolicyError, match=r"resolves to internal address 127\.0\.0\.1"):
        await STRICT.check_resolved(url)


async def test_check_resolved_refuses_names_that_resolve_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_getaddrinfo(*args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UrlPolicyError, match=r"resolves to internal address 127\.0\.0\.1"):
        await STRICT.check_resolved("https://rebind.example.com/ocpi/versions")


async def test_check_resolved_refuses_if_any_address_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_getaddrinfo(*args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1", 0, 0, 0)),
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UrlPolicyError, match="fe80::1"):
        await STRICT.check_resolved("https://mixed.example.com/")


async def test_check_resolved_allows_names_resolving_to_public_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_getaddrinfo(*args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
    url = "https://ocpi.example.com/ocpi/versions"
    assert await STRICT.check_resolved(url) == url


async def test_check_resolved_lets_unresolvable_names_through_to_fail_on_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fake_getaddrinfo(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
    url = "https://nowhere.example.com/"
    assert await STRICT.check_resolved(url) == url


async def test_check_resolved_treats_an_unencodable_name_as_unresolvable() -> None:
    url = "https://" + "a" * 64 + ".example.com/"  # a DNS label of 64 characters cannot be IDNA-encoded
    assert await STRICT.check_resolved(url) == url


async def test_check_resolved_runs_the_static_checks_first() -> None:
    with pytest.raises(UrlPolicyError, match="plain http"):
        await STRICT.check_resolved("http://ocpi.example.com/")
    with pytest.raises(UrlPolicyError, match="private"):
        await STRICT.check_resolved("https://10.1.2.3/")


async def test_check_resolved_skips_dns_when_private_is_allowed() -> None:
    assert await LAN.check_resolved("https://localhost/") == "https://localhost/"


async def test_check_resolved_accepts_public_address_literals_without_dns() -> None:
    assert await STRICT.check_resolved("https://93.184.216.34/") == "https://93.184.216.34/"
