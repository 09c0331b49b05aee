"""The FastAPI application: state, middleware, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algaflow import __version__
from algaflow.config import Settings, load_settings
from algaflow.errors import AlgaflowError
from algaflow.registry import Registry, build_registry
from algaflow.runtime.worker import start_background_worker
from algaflow.store.engine import make_engine

from .errors import JSONBody, install_error_handlers, problem
from .routes import bundles, definitions, runs
from .routes import registry as registry_routes


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with a 413, whether declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _error(self) -> AlgaflowError:
        return AlgaflowError(
            "PAYLOAD_TOO_LARGE",
            f"Request body exceeds the limit of {self.limit} bytes.",
            status=413,
            details={"maxBytes": self.limit},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await problem(self._error())(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            # A streamed (chunked) body: the route's read fails with the coded error, which the
            # error handlers answer (errors.py unwraps it where FastAPI re-wraps body failures).
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise self._error()
            return message

        await self.app(scope, limited, send)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    registry: Registry | None = None,
    background_worker: bool = False,
) -> FastAPI:
    """Build the app; tests pass their own engine and registry.

    With ``background_worker`` the process also resumes due timers, retries and runs left by a
    stopped process (what ``algaflow serve`` does; ``algaflow worker`` does only that).
    """
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = (
            start_background_worker(app.state.engine, app.state.registry)
            if (background_worker)
            else None
        )
        yield
        if stop is not None:
            stop.set()

    app = FastAPI(
        lifespan=lifespan,
        title="algaflow",
        version=__version__,
        description="Workflow definitions, bundles and runs for Alga PSA Workflow Runtime V2.",
        default_response_class=JSONBody,
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
    app.include_router(runs.router, prefix="/api")
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
