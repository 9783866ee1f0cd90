"""Money rounding, stated once: ISO 4217 minor units, applied to final totals only."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal

__all__ = ["DEFAULT_MINOR_UNITS", "amounts_agree", "minor_unit", "minor_units", "round_money"]

# ISO 4217 minor units of the currencies that do not use 2 decimals (list of 2024). Every other code, known
# or not, uses 2: the spec only says `currency` is an ISO 4217 code (mod_tariffs_tariff_object).
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        [
            *("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"),
            *("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"),
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
DEFAULT_MINOR_UNITS = 2
_QUANTA: dict[int, Decimal] = {n: Decimal(1).scaleb(-n) for n in range(5)}
_NOISE = Decimal("1e-12")
_WIDE = Context(prec=60)


def minor_units(currency: str) -> int:
    """Decimals of `currency` (ISO 4217 minor units; 2 for codes not in the table)."""
    return _MINOR_UNITS.get(currency.upper(), DEFAULT_MINOR_UNITS)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`: 0.01 EUR, 1 JPY, 0.001 KWD."""
    return _QUANTA[minor_units(currency)]


def round_money(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round a final total to the currency's minor unit; the only place the engine rounds money.

    OCPI leaves price rounding to law and contract (2.3.0 mod_tariffs says so explicitly; 2.2.1 is silent).
    The engine computes every amount unrounded and rounds each final total once, half up (commercial
    rounding) unless the PricingOptions say otherwise. Totals are rounded independently, so rounded parts
    need not add up to the rounded total; the breakdown keeps the unrounded values.

    Volumes shared between split periods (a third of an hour...) leave noise in the last of Decimal's 28
    digits, e.g. 1.4999...9 for 1.50; it is dropped first (to 12 decimals) so that it can never decide
    which way a total rounds.
    """
    settled = amount.quantize(_NOISE, rounding=ROUND_HALF_EVEN, context=_WIDE)
    return settled.quantize(_QUANTA[minor_units(currency)], rounding=rounding, context=_WIDE)


def amounts_agree(stated: Decimal, computed: Decimal, unrounded: Decimal, currency: str) -> bool:
    """Whether an amount a CDR states matches ours "within the currency's rounding".

    It does when it lies within half a minor unit of our rounded total, or of our unrounded total (the
    other party may have rounded the other way, or stated more decimals than the currency has).
    """
    half = _QUANTA[minor_units(currency)] / 2
    return abs(stated - computed) <= half or abs(stated - unrounded) <= half
