"""Request dependencies: the engine, the registry, and the caller's tenant and permissions.

A request's tenant always comes from its API key (``Authorization: Bearer`` or ``x-api-key``);
no route takes a tenant from the URL or the body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from algaflow.api.bodies import BODY_ERROR, PRINCIPAL
from algaflow.kernel.errors import AlgaflowError
from algaflow.registry import Registry
from algaflow.services import UnitOfWork
from algaflow.services.admin import authenticate

_bearer = HTTPBearer(auto_error=False, description="An algaflow API key")
_api_key_header = APIKeyHeader(name="x-api-key", auto_error=False)


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    permissions: frozenset[str]
    key_id: str | None = None


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_registry(request: Request) -> Registry:
    return request.app.state.registry


def get_uow(engine: Engine = Depends(get_engine)) -> UnitOfWork:
    """The database of this request; the service call commits before the route returns.

    Deliberately not a ``yield`` dependency: FastAPI may run the exit of one after the response
    has been sent, which would acknowledge a write before (or even without) its commit.
    """
    return UnitOfWork(engine)


def presented_secret(headers: Mapping[str, str]) -> str | None:
    """The API key a request presents (``Authorization: Bearer`` or ``x-api-key``), if any."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return headers.get("x-api-key") or None


def authenticate_key(engine: Engine, secret: str | None) -> Principal:
    """The principal of an API key, or ``UNAUTHENTICATED`` (one keyed lookup)."""
    if not secret:
        raise AlgaflowError(
            "UNAUTHENTICATED",
            "An API key is required: send it as 'Authorization: Bearer <key>' or 'x-api-key'"
            " (the algaflow command sends --api-key, else ALGAFLOW_API_KEY; `algaflow keys"
            " create` makes one).",
        )
    holder = authenticate(UnitOfWork(engine), secret)
    if holder is None:
        raise AlgaflowError("UNAUTHENTICATED", "The API key is not valid.")
    return Principal(holder.tenant_id, holder.permissions, holder.key_id)


#: ``app.state`` attribute naming the one trusted caller of an app that is never served on a
#: socket (the CLI's local-database mode runs the app in its own process): requests need no key.
IN_PROCESS_PRINCIPAL = "in_process_principal"


def in_process_principal(state: object) -> Principal | None:
    """The trusted caller of an in-process app, or ``None`` for a served one."""
    trusted = getattr(state, IN_PROCESS_PRINCIPAL, None)
    return trusted if isinstance(trusted, Principal) else None


def get_principal(
    request: Request,
    engine: Engine = Depends(get_engine),
    # Declared for OpenAPI's security schemes; the secret itself is read by presented_secret.
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    api_key: str | None = Depends(_api_key_header),
) -> Principal:
    known = getattr(request.state, PRINCIPAL, None)  # authenticated by app.JsonDepthLimit
    if isinstance(known, Principal):
        return known
    trusted = in_process_principal(request.app.state)
    if trusted is not None:
        return trusted
    return authenticate_key(engine, presented_secret(request.headers))


def require(permission: str) -> Callable[..., Principal]:
    """A dependency granting access when the key has ``permission`` (or ``workflow:admin``).

    Every route with a body uses it, so it also raises a body refusal left by the app's
    middleware, once the caller is known to be allowed.
    """

    def dependency(request: Request, principal: Principal = Depends(get_principal)) -> Principal:
        if (
            permission not in principal.permissions
            and "workflow:admin" not in principal.permissions
        ):
            raise AlgaflowError(
                "FORBIDDEN",
                f'Workflow permission "{permission.split(":")[-1]}" required',
                details={"permission": permission},
            )
        refused = getattr(request.state, BODY_ERROR, None)  # app.JsonDepthLimit's verdict
        if refused is not None:
            raise refused
        return principal

    return dependency
