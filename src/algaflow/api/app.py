"""The FastAPI application: state, middleware, error handlers and routers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from algaflow import __version__
from algaflow.config import Settings, load_settings
from algaflow.errors import AlgaflowError
from algaflow.registry import Registry, build_registry
from algaflow.store.engine import make_engine

from .errors import install_error_handlers, problem
from .routes import bundles, definitions
from .routes import registry as registry_routes


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with a 413 before any route reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = AlgaflowError(
            "PAYLOAD_TOO_LARGE",
            f"Request body exceeds the limit of {self.limit} bytes.",
            status=413,
            details={"maxBytes": self.limit},
        )
        await problem(error)(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    registry: Registry | None = None,
) -> FastAPI:
    """Build the app; tests pass their own engine and registry."""
    settings = settings or load_settings()
    app = FastAPI(
        title="algaflow",
        version=__version__,
        description="Workflow definitions, bundles and runs for Alga PSA Workflow Runtime V2.",
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.registry = registry or build_registry(settings)
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # Bundle routes first: "/{workflowId}/export" must win over "/{workflowId}/{version}".
    app.include_router(bundles.router, prefix="/api")
    app.include_router(definitions.router, prefix="/api")
    app.include_router(registry_routes.router, prefix="/api")
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
