"""Who the caller is: the API key's tenant and permissions (``algaflow status`` shows them)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from algaflow.services import UnitOfWork
from algaflow.services.admin import tenant_of

from ..deps import Principal, get_principal, get_uow
from ..errors import error_responses

router = APIRouter(tags=["caller"])


class Caller(BaseModel):
    tenant: str = Field(description="The tenant's name")
    tenantId: str
    permissions: list[str] = Field(description="Sorted; workflow:admin grants every other")


@router.get(
    "/whoami",
    summary="Who is calling",
    responses=error_responses(),
    description="The tenant and the permissions of the API key the request presents. Any valid"
    " key may ask; it changes nothing.",
)
def whoami(
    principal: Principal = Depends(get_principal), uow: UnitOfWork = Depends(get_uow)
) -> Caller:
    tenant = tenant_of(uow, principal.tenant_id)
    return Caller(tenant=tenant.name, tenantId=tenant.id, permissions=sorted(principal.permissions))
