"""Which of a connector's tariffs prices a session: type against context, validity window, connector order."""

from __future__ import annotations

import pytest
from tariff_builders import at, el, pc, tariff

from evroam.modules.sessions.models import ProfileType
from evroam.tariffs import TariffContext, is_valid_at, select_tariff

NOW = at("2024-06-01 12:00")


def t(tariff_id: str, kind: str | None = None, **window: str):
    fields = {"type": kind} if kind else {}
    return tariff(el(pc("ENERGY", "0.30")), tariff_id=tariff_id, **fields, **window)


def test_validity_window_is_inclusive_of_both_ends():
    window = t("A", start_date_time="2024-06-01T12:00:00Z", end_date_time="2024-06-30T23:59:59Z")
    assert is_valid_at(window, NOW)
    assert is_valid_at(window, at("2024-06-30 23:59:59"))
    assert not is_valid_at(window, at("2024-07-01 00:00"))
    assert not is_valid_at(window, at("2024-06-01 11:59:59"))


def test_old_and_new_tariff_replace_each_other_by_date():
    # mod_tariffs_tariff_example_0_25_euro_per_kwh_start_max_price: list both, the end date switches them
    old = t("OLD", end_date_time="2024-05-31T23:59:59Z")
    new = t("NEW", start_date_time="2024-06-01T00:00:00Z")
    assert select_tariff([old, new], NOW) is new
    assert select_tariff([old, new], at("2024-05-01 00:00")) is old


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (TariffContext(), "REG"),
        (TariffContext(profile=ProfileType.REGULAR), "REG"),
        (TariffContext(profile=ProfileType.CHEAP), "CHEAP"),
        (TariffContext(profile=ProfileType.FAST), "REG"),  # no PROFILE_FAST tariff: REGULAR comes last
        (TariffContext(ad_hoc_payment=True), "ADHOC"),
    ],
)
def test_type_matches_the_context(context: TariffContext, expected: str):
    tariffs = [t("ADHOC", "AD_HOC_PAYMENT"), t("CHEAP", "PROFILE_CHEAP"), t("REG", "REGULAR")]
    chosen = select_tariff(tariffs, NOW, context=context)
    assert chosen is not None
    assert chosen.id == expected


def test_a_tariff_without_type_applies_to_every_session_after_an_exact_match():
    anything, ad_hoc = t("ANY"), t("ADHOC", "AD_HOC_PAYMENT")
    assert select_tariff([anything, ad_hoc], NOW) is anything
    assert select_tariff([anything, ad_hoc], NOW, context=TariffContext(ad_hoc_payment=True)) is ad_hoc


def test_ad_hoc_payment_does_not_fall_back_to_regular():
    assert select_tariff([t("REG", "REGULAR")], NOW, context=TariffContext(ad_hoc_payment=True)) is None


def test_connector_order_and_case_insensitive_ids():
    a, b = t("A"), t("B")
    assert select_tariff([a, b], NOW, tariff_ids=["b", "a"]) is b
    assert select_tariff([a, b], NOW, tariff_ids=["C"]) is None
    assert select_tariff([a, b], NOW, tariff_ids=[]) is None
