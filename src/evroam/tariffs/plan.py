"""A tariff prepared for pricing: restrictions parsed, components listed per dimension in element order."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from evroam.modules.tariffs.models import ReservationRestrictionType, Tariff, TariffDimensionType, TaxIncluded
from evroam.tariffs.breakdown import CostCategory
from evroam.tariffs.errors import PricingError
from evroam.tariffs.options import ExpiredReservationFlat, ParkingDuration, PricingOptions, WrappedWindowDay
from evroam.tariffs.restrictions import Conditions, Point

__all__ = [
    "CLOCK",
    "DURATION",
    "ENERGY",
    "KWH",
    "PARKED",
    "PARKING",
    "RESERVED",
    "RESERVED_DURATION",
    "TIME",
    "Component",
    "TariffPlan",
    "Triggers",
    "plan_for",
]

# Dimensions priced per period, as indexes into per-dimension tuples. RESERVED is TIME under a reservation
# restriction: the reservation's duration (mod_tariffs_tariffrestrictions_class `reservation`).
ENERGY, TIME, PARKING, RESERVED = 0, 1, 2, 3
_DIMENSIONS = (TariffDimensionType.ENERGY, TariffDimensionType.TIME, TariffDimensionType.PARKING_TIME)
# Kinds of cut point (bits): what a restriction looks at that can change within a period.
CLOCK, DURATION, KWH, PARKED, RESERVED_DURATION = 1, 2, 4, 8, 16
_HUNDRED = Decimal(100)
_ONE = Decimal(1)


class Component:
    """One PriceComponent with its element's conditions and the CDR total it adds to."""

    __slots__ = (
        "always",
        "category",
        "component_index",
        "conditions",
        "dimension",
        "element_index",
        "kinds_upto",
        "price",
        "step_size",
        "tariff_id",
        "vat",
        "vat_factor",
    )

    def __init__(
        self,
        tariff_id: str,
        element_index: int,
        component_index: int,
        dimension: TariffDimensionType,
        price: Decimal,
        vat: Decimal | None,
        step_size: int,
        conditions: Conditions,
        category: CostCategory,
    ) -> None:
        self.tariff_id, self.element_index, self.component_index = tariff_id, element_index, component_index
        self.dimension, self.price, self.vat, self.step_size = dimension, price, vat, step_size
        # OCPI 2.2.1 mod_tariffs_pricecomponent_class: absent vat means no VAT applicable (factor 1).
        self.vat_factor = _ONE + vat / _HUNDRED if vat is not None else _ONE
        self.conditions, self.category = conditions, category
        self.always = conditions.always
        # The cut kinds of this component's element and of every element before it in its candidate list:
        # while this component is the active one, only cuts of these kinds can change that.
        self.kinds_upto = 0

    def clone(self) -> Component:
        """The same component, for another candidate list (where it gets its own kinds_upto)."""
        return Component(
            self.tariff_id,
            self.element_index,
            self.component_index,
            self.dimension,
            self.price,
            self.vat,
            self.step_size,
            self.conditions,
            self.category,
        )


class Triggers(NamedTuple):
    """What can change the active element of a set of dimensions, hence where periods may need cutting."""

    walls: tuple[int, ...]  # local times of day (microseconds since midnight)
    uses_clock: bool
    durations: tuple[int, ...]  # session durations (microseconds)
    parking_durations: tuple[int, ...]  # parking time so far (ParkingDuration.PARKING)
    reservation_durations: tuple[int, ...]  # time since the reservation started
    kwhs: tuple[Decimal, ...]


def _reachable(candidates: list[Component]) -> tuple[Component, ...]:
    # Per dimension the first element whose restrictions hold wins (mod_tariffs_tariff_object), so anything
    # after an unrestricted element is never reached.
    for index, component in enumerate(candidates):
        if component.conditions.always:
            return tuple(candidates[: index + 1])
    return tuple(candidates)


def _category(dimension: TariffDimensionType, reservation: bool, types: set[TariffDimensionType]) -> CostCategory:
    """The CDR total a component adds to (mod_cdrs_cdr_object): reservation elements to
    total_reservation_cost and a FLAT whose element otherwise holds only PARKING_TIME to total_parking_cost
    (both "including fixed price components"); other FLATs to total_fixed_cost ("except fixed price components
    of parking and reservation")."""
    if reservation:
        return CostCategory.RESERVATION
    if dimension is TariffDimensionType.FLAT:
        parking_only = types == {TariffDimensionType.FLAT, TariffDimensionType.PARKING_TIME}
        return CostCategory.PARKING if parking_only else CostCategory.FIXED
    return (CostCategory.ENERGY, CostCategory.TIME, CostCategory.PARKING)[_DIMENSIONS.index(dimension)]


def _mark(candidates: tuple[Component, ...], duration_kind: int) -> int:
    kinds = 0
    for component in candidates:
        c = component.conditions
        kinds |= (CLOCK if c.uses_clock else 0) | (duration_kind if c.durations else 0) | (KWH if c.kwhs else 0)
        component.kinds_upto = kinds
    return kinds


class TariffPlan:
    """Per dimension, the components that can apply, in element order (OCPI 2.3.0 mod_tariffs_tariff_object:
    "the first Tariff Element with a Price Component for that dimension ... with matching restrictions")."""

    def __init__(self, tariff: Tariff, options: PricingOptions) -> None:
        if tariff.tax_included is TaxIncluded.YES:
            # 2.3.0 mod_tariffs_pricecomponent_class: price "is including or excluding taxes according to the
            # tax_included field"; every rule here reads price as excluding VAT (2.2.1), so refuse, not guess.
            raise PricingError(f"tariff {tariff.id} states prices including taxes (tax_included YES): not supported")
        self.tariff = tariff
        self.id = tariff.id
        self.currency = tariff.currency
        self.parking_by_session = options.parking_duration is ParkingDuration.SESSION
        window_start = options.wrapped_window_day is WrappedWindowDay.WINDOW_START
        normal: list[list[Component]] = [[], [], []]
        normal_flat: list[Component] = []
        reserved: list[Component] = []
        reserved_flat: list[Component] = []
        expiry: list[Component] = []
        expiry_flat: list[Component] = []
        for e_index, element in enumerate(tariff.elements):
            conditions = Conditions(element.restrictions, window_start)
            kind = element.restrictions.reservation if element.restrictions is not None else None
            types = {c.type for c in element.price_components}
            seen: set[TariffDimensionType] = set()
            for c_index, pc in enumerate(element.price_components):
                if pc.type in seen:  # one component per dimension and element: the first counts
                    continue
                seen.add(pc.type)
                category = _category(pc.type, kind is not None, types)
                component = Component(
                    tariff.id, e_index, c_index, pc.type, pc.price, pc.vat, pc.step_size, conditions, category
                )
                if kind is None:
                    target = normal_flat if pc.type is TariffDimensionType.FLAT else normal[_DIMENSIONS.index(pc.type)]
                elif kind is ReservationRestrictionType.RESERVATION:
                    target = reserved_flat if pc.type is TariffDimensionType.FLAT else reserved
                else:
                    target = expiry_flat if pc.type is TariffDimensionType.FLAT else expiry
                if pc.type in (TariffDimensionType.FLAT, TariffDimensionType.TIME) or kind is None:
                    target.append(component)
        self.flat = _reachable(normal_flat)
        self.reservation_flat = _reachable(reserved_flat)
        # OCPI 2.2.1 mod_tariffs_reservation_restriction_type: an expired reservation's TIME is priced by the
        # RESERVATION_EXPIRES element when both kinds have one; PricingOptions.expired_reservation_flat says
        # whether its FLAT replaces the reservation fee or comes on top of it.
        self.expired_flat = _reachable(expiry_flat + reserved_flat)
        self.expiry_flat_only = _reachable(expiry_flat)
        self.add_expiry_fee = options.expired_reservation_flat is ExpiredReservationFlat.ADD
        self.candidates = (*(_reachable(c) for c in normal), _reachable(reserved))
        # Copies: a RESERVATION component has another position (and kinds_upto) in the expired list.
        self.expired_candidates = (*self.candidates[:3], _reachable(expiry + [c.clone() for c in reserved]))
        parked = DURATION if options.parking_duration is ParkingDuration.SESSION else PARKED
        duration_kinds = (DURATION, DURATION, parked, RESERVED_DURATION)
        self.all_kinds = tuple(_mark(group, kind) for group, kind in zip(self.candidates, duration_kinds, strict=True))
        self.expired_all_kinds = (*self.all_kinds[:3], _mark(self.expired_candidates[3], RESERVED_DURATION))
        groups = (self.flat, self.reservation_flat, self.expired_flat, *self.candidates, self.expired_candidates[3])
        # Whether any reachable element looks at current or power (otherwise periods skip reading them).
        self.electric = any(c.conditions.electric for group in groups for c in group)
        components = [pc for element in tariff.elements for pc in element.price_components]
        self.vat_unknown = all(pc.vat is None for pc in components)
        self.min_price, self.max_price = tariff.min_price, tariff.max_price
        # Per set of dimensions with volume (bit i set: dimension i), what can cut a period.
        self.triggers = tuple(self._triggers(mask, False) for mask in range(16))
        self.expired_triggers = tuple(self._triggers(mask, True) for mask in range(16))

    def _triggers(self, mask: int, expired: bool) -> Triggers:
        walls: set[int] = set()
        durations: set[int] = set()
        parking: set[int] = set()
        reservation: set[int] = set()
        kwhs: set[Decimal] = set()
        uses_clock = False
        candidates = self.expired_candidates if expired else self.candidates
        for dim in range(4):
            if not mask & (1 << dim):
                continue
            for component in candidates[dim]:
                c = component.conditions
                walls.update(c.walls)
                uses_clock = uses_clock or c.uses_clock
                kwhs.update(c.kwhs)
                if dim == RESERVED:
                    reservation.update(c.durations)
                elif dim == PARKING and not self.parking_by_session:
                    parking.update(c.durations)
                else:
                    durations.update(c.durations)
        return Triggers(
            tuple(sorted(walls)),
            uses_clock,
            tuple(sorted(durations)),
            tuple(sorted(parking)),
            tuple(sorted(reservation)),
            tuple(sorted(kwhs)),
        )

    @staticmethod
    def pick(candidates: tuple[Component, ...], point: Point, duration: int) -> Component | None:
        """The first component whose element's restrictions all hold; None: this dimension is free."""
        for component in candidates:
            if component.always or component.conditions.holds(point, duration):
                return component
        return None


_PLANS: dict[tuple[int, PricingOptions], tuple[Tariff, TariffPlan]] = {}


def plan_for(tariff: Tariff, options: PricingOptions) -> TariffPlan:
    """The plan of a tariff, cached by identity: treat a Tariff as immutable once it has been priced."""
    key = (id(tariff), options)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is tariff:
        return cached[1]
    plan = TariffPlan(tariff, options)
    if len(_PLANS) >= 1024:
        _PLANS.clear()
    _PLANS[key] = (tariff, plan)
    return plan
