"""`/admin/api/reservations`: a CPO back office cancels a reservation it can no longer keep."""

from __future__ import annotations

from fastapi import APIRouter

from evroam.admin.auth import AdminNode
from evroam.admin.http import PREFIX
from evroam.admin.owner import check_owner
from evroam.chargepoints.reservations import cancel_by_cpo
from evroam.errors import NotFoundError
from evroam.transport.envelope import OcpiResponse

__all__ = ["router"]

router: APIRouter = APIRouter()


@router.delete(f"{PREFIX}/reservations/{{country_code}}/{{party_id}}/{{sender_cc}}/{{sender_pid}}/{{reservation_id}}")
async def cancel_reservation(
    node: AdminNode, country_code: str, party_id: str, sender_cc: str, sender_pid: str, reservation_id: str
) -> OcpiResponse:
    """Cancel the reservation `reservation_id` the party sender_cc/sender_pid holds at our CPO party
    country_code/party_id; the sender is told CANCELED_RESERVATION at its RESERVE_NOW's response_url."""
    check_owner(node.parties, "sessions", country_code, party_id)
    cpo = (country_code.upper(), party_id.upper())
    if not await cancel_by_cpo(node, cpo, (sender_cc.upper(), sender_pid.upper()), reservation_id):
        raise NotFoundError(f"{sender_cc[:5]}/{sender_pid[:5]} holds no reservation {reservation_id[:36]!r} here")
    return OcpiResponse(None)
