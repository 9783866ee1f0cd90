"""The one error the tariff engine raises: input it cannot price, with a message saying why."""

from __future__ import annotations

__all__ = ["PricingError"]


class PricingError(ValueError):
    """Charging periods, tariffs or a time zone that cannot be priced (out-of-order periods, unknown zone...)."""
