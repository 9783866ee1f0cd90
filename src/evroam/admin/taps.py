"""`POST /admin/api/chargepoints/.../tap`: a driver holds a token to a simulated Charge Point's reader."""

from __future__ import annotations

from fastapi import APIRouter, Request

from evroam.admin.auth import AdminNode
from evroam.admin.http import PREFIX, read_object
from evroam.admin.owner import check_owner
from evroam.errors import NotFoundError
from evroam.modules.objects import parse_model
from evroam.modules.tokens.models import TokenType
from evroam.sim import Simulator
from evroam.transport.envelope import OcpiResponse
from evroam.types import CiString36, OcpiModel

__all__ = ["router"]

router: APIRouter = APIRouter()


class TapRequest(OcpiModel):
    """The token the reader saw, and the Connector the driver plugged into (any free one when left out)."""

    uid: CiString36
    type: TokenType = TokenType.RFID
    connector_id: CiString36 | None = None


@router.post(f"{PREFIX}/chargepoints/{{country_code}}/{{party_id}}/{{location_id}}/{{evse_uid}}/tap")
async def tap(
    node: AdminNode, request: Request, country_code: str, party_id: str, location_id: str, evse_uid: str
) -> OcpiResponse:
    """The token's session at this EVSE stops, or the CPO authorizes the token and a session starts:
    `action` STARTED, STOPPED or REFUSED, the `session_id`, the `authorization` decided, a `reason`."""
    check_owner(node.parties, "locations", country_code, party_id)
    simulator = node.charge_points
    if not isinstance(simulator, Simulator):
        raise NotFoundError(
            f"this node's Charge Points are not simulated (EVROAM_CHARGE_POINTS={node.settings.charge_points}): "
            "real ones read tokens themselves"
        )
    asked = parse_model(TapRequest, await read_object(request, node))
    cpo = (country_code.upper(), party_id.upper())
    result = await simulator.tap(cpo, location_id, evse_uid, asked.uid, asked.type, asked.connector_id)
    return OcpiResponse(result.to_dict())
