"""The FastAPI application: state, middleware, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algaflow import __version__
from algaflow.config import Settings, load_settings
from algaflow.kernel.errors import AlgaflowError
from algaflow.kernel.jsvalues import MAX_JSON_DEPTH, json_depth
from algaflow.registry import Registry, build_registry
from algaflow.store.engine import make_engine

from .bodies import BODY_ERROR, PRINCIPAL, too_deep
from .deps import authenticate_key, in_process_principal, presented_secret
from .errors import JSONBody, install_error_handlers, problem
from .openapi import install_openapi
from .responses import Health
from .routes import bundles, caller, definitions, runs
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
            # A streamed (chunked) body: the read fails with the coded error, which
            # JsonDepthLimit (the reader) answers.
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise self._error()
            return message

        await self.app(scope, limited, send)


class JsonDepthLimit:
    """Refuse any request body nested deeper than ``limit`` with a 400 ``JSON_TOO_DEEP``.

    Every body of this API is JSON, and FastAPI parses typed bodies before a route runs; past a
    few hundred levels parsing, validation or echoing the value back would hit Python's recursion
    limit (a 500). So the raw bytes are measured here, before anything parses them.

    Measuring costs time in proportion to the body, so an anonymous caller gets none of it: a body
    is measured only once its API key is known to be valid (one keyed lookup, which the route then
    reuses), and both run in a worker thread, never on the event loop. A body without a valid key
    is dropped unread, and the route answers 401. A body within the limit goes on unchanged; a
    deeper one is dropped and its error left in the request state for
    :func:`~algaflow.api.deps.require` to raise after the permission check, so an
    under-privileged caller still gets 403 first. The store refuses stored values deeper than
    ``MAX_STORED_DEPTH`` (a bundle's levels less), with the pointer; this guard keeps every layer
    safe. Install it *inside* :class:`BodyLimit`, which bounds what is buffered here.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":  # the client went away
                    await self.app(scope, _replay(message, receive), send)
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except AlgaflowError as error:  # BodyLimit's, raised while streaming in
            await problem(error)(scope, receive, send)
            return
        body = b"".join(chunks)
        del chunks  # the pieces would otherwise stay alive, a second copy, for the whole request
        if body:
            body = await self._admit(scope, body)
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay(whole, receive), send)

    async def _admit(self, scope: Scope, body: bytes) -> bytes:
        """``body`` if its caller is authenticated and it is shallow enough, else ``b""``."""
        principal = in_process_principal(scope["app"].state)
        if principal is None:
            secret = presented_secret(Headers(scope=scope))
            if secret is None:
                return b""
            try:
                principal = await run_in_threadpool(
                    authenticate_key, scope["app"].state.engine, secret
                )
            except AlgaflowError:
                return b""  # the route's own check answers 401
        state = scope.setdefault("state", {})
        state[PRINCIPAL] = principal
        depth = await run_in_threadpool(json_depth, body)
        if depth > self.limit:
            state[BODY_ERROR] = too_deep(depth, self.limit)
            return b""
        return body


def _replay(first: Message, receive: Receive) -> Receive:
    """``receive`` that answers ``first`` once, then defers to the real one (disconnects)."""
    pending = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


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
        stop = None
        if background_worker:  # imported here: the in-process app of a CLI command never is
            from algaflow.services.worker import start_background_worker

            stop = start_background_worker(app.state.engine, app.state.registry, settings=settings)
        yield
        if stop is not None:
            stop.set()

    # /docs and /redoc load their scripts from a package, not a CDN: they work offline.
    app = FastAPIOffline(
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

    @app.get(
        "/healthz",
        tags=["health"],
        summary="Health",
        description="Answers while the process serves requests, with its version; needs no key"
        " and does not touch the database.",
    )
    def healthz() -> Health:
        return Health(status="ok", version=__version__)

    # Bundle routes first: "/{workflowId}/export" must win over "/{workflowId}/{version}".
    routers = (
        bundles.router,
        definitions.router,
        registry_routes.router,
        runs.router,
        caller.router,
    )
    for router in routers:
        app.include_router(router, prefix="/api")
    install_openapi(app)
    app.add_middleware(JsonDepthLimit)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)  # added last: runs first
    return app
