"""Unit tests for the credentials-token header (transport_and_format_authorization_header)."""

from __future__ import annotations

import base64
import string

import pytest

from evroam.transport.auth import (
    authorization_header,
    generate_token,
    hash_token,
    token_candidates,
    tokens_equal,
)

TOKEN = "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2"
TOKEN_B64 = base64.b64encode(TOKEN.encode()).decode()


# --- sending --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0", None])
def test_header_is_base64_of_the_token_for_2_2_1_and_later(version: str | None) -> None:
    assert authorization_header(TOKEN, version) == f"Token {TOKEN_B64}"


def test_base64_header_uses_standard_alphabet_with_padding() -> None:
    header = authorization_header("a?>", "2.2.1")  # bytes 61 3f 3e: '+' and '/' territory
    assert header == "Token " + base64.b64encode(b"a?>").decode()
    assert authorization_header("ab", "2.2.1") == "Token YWI="


@pytest.mark.parametrize("version", ["2.1.1", "2.1", "2.0"])
def test_header_is_the_raw_token_for_2_1_1_and_older(version: str) -> None:
    assert authorization_header(TOKEN, version) == f"Token {TOKEN}"


def test_header_has_exactly_one_space_after_the_literal_token() -> None:
    header = authorization_header(TOKEN, "2.2.1")
    scheme, value = header.split(" ")
    assert scheme == "Token"
    assert base64.b64decode(value, validate=True).decode() == TOKEN


# --- receiving ------------------------------------------------------------------------------------------


def test_base64_header_yields_the_decoded_token_first() -> None:
    assert token_candidates(f"Token {TOKEN_B64}")[0] == TOKEN


def test_raw_header_yields_the_raw_token() -> None:
    assert TOKEN in token_candidates(f"Token {TOKEN}")


def test_both_encodings_of_a_header_resolve_to_the_same_token() -> None:
    assert TOKEN in token_candidates(f"Token {TOKEN_B64}")
    assert TOKEN in token_candidates(f"Token {TOKEN}")


def test_a_raw_token_that_happens_to_be_valid_base64_is_still_offered_raw() -> None:
    raw = "abcd"  # valid Base64 of i\xb7\x1d, which is not printable ASCII
    assert token_candidates(f"Token {raw}") == [raw]
    printable = base64.b64encode(b"tok").decode()  # "dG9r" decodes to printable "tok"
    assert token_candidates(f"Token {printable}") == ["tok", printable]


@pytest.mark.parametrize("scheme", ["Token", "token", "TOKEN", "tOkEn"])
def test_token_scheme_is_case_insensitive(scheme: str) -> None:
    assert token_candidates(f"{scheme} {TOKEN_B64}")[0] == TOKEN


def test_surrounding_whitespace_is_tolerated() -> None:
    assert token_candidates(f"  Token   {TOKEN_B64}  ")[0] == TOKEN


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "Token",
        "Token ",
        "Token    ",
        f"Bearer {TOKEN_B64}",
        f"Basic {TOKEN_B64}",
        TOKEN_B64,
        "Tokenx abc",
    ],
)
def test_missing_empty_or_non_token_scheme_headers_yield_nothing(header: str | None) -> None:
    assert token_candidates(header) == []


def test_base64_decoding_to_non_ascii_is_not_offered_decoded() -> None:
    value = base64.b64encode("tökén".encode()).decode()
    assert token_candidates(f"Token {value}") == [value]


def test_base64_decoding_to_control_characters_is_not_offered_decoded() -> None:
    value = base64.b64encode(b"ab\ncd").decode()
    assert token_candidates(f"Token {value}") == [value]


# --- generation, hashing, comparison --------------------------------------------------------------------

_PRINTABLE_ASCII = set(string.ascii_letters + string.digits + string.punctuation)


def test_generated_tokens_are_at_most_64_printable_ascii_without_whitespace() -> None:
    for _ in range(50):
        token = generate_token()
        assert 32 <= len(token) <= 64
        assert set(token) <= _PRINTABLE_ASCII


def test_generated_tokens_are_unique() -> None:
    tokens = {generate_token() for _ in range(1000)}
    assert len(tokens) == 1000


def test_generated_token_survives_the_header_round_trip() -> None:
    token = generate_token()
    assert token_candidates(authorization_header(token, "2.2.1"))[0] == token
    assert token in token_candidates(authorization_header(token, "2.1.1"))


def test_hash_token_is_stable_sha256_hex() -> None:
    assert hash_token("secret") == hash_token("secret")
    assert hash_token("secret") == "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
    assert len(hash_token(TOKEN)) == 64


def test_hash_token_is_case_sensitive_and_differs_per_token() -> None:
    assert hash_token("Secret") != hash_token("secret")
    assert hash_token(TOKEN) != hash_token(TOKEN_B64)


def test_tokens_equal_compares_exactly() -> None:
    assert tokens_equal(TOKEN, TOKEN)
    assert not tokens_equal(TOKEN, TOKEN.upper())
    assert not tokens_equal(TOKEN, TOKEN + " ")
    assert not tokens_equal("", TOKEN)
    assert tokens_equal("tökén", "tökén")
