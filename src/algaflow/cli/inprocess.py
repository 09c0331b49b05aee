"""Local-database mode: the server's own app, built over the database and run in this process.

The commands talk to it through the same :class:`~algaflow.cli.client.ApiClient` as to a real
server; only the transport differs: httpx's ASGI transport, driven from this synchronous code
through one anyio blocking portal (an event loop in a helper thread, for the whole command). So
a command's answer is the server's answer by construction: same routes, same validation, same
errors.

The app trusts one caller: the chosen tenant with every permission, without an API key
(``algaflow.api.deps.IN_PROCESS_PRINCIPAL``). It is never bound to a socket, so nothing outside
this process can reach it, and no key is created, printed or left behind in the database.
This module is imported only in local mode: it loads FastAPI, SQLAlchemy and the runtime.
"""

from __future__ import annotations

from contextlib import ExitStack

import httpx
from anyio.from_thread import start_blocking_portal
from starlette.types import ASGIApp

from algaflow.api.app import create_app
from algaflow.api.deps import IN_PROCESS_PRINCIPAL, Principal
from algaflow.store.api_keys import PERMISSIONS

from .client import ApiClient
from .database import open_engine, resolve_tenant, settings_for
from .target import Target

#: The base URL of requests in this process (it names nothing on the network).
LOCAL_BASE_URL = "http://algaflow.local"


class PortalTransport(httpx.BaseTransport):
    """A synchronous httpx transport that calls an ASGI app on a portal's event loop."""

    def __init__(self, app: ASGIApp) -> None:
        # Unexpected failures become the app's coded 500, as a server would answer them.
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def exchange() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(exchange)

    def close(self) -> None:
        self._stack.close()


class LocalClient(ApiClient):
    """An :class:`ApiClient` of the app over a database; closing it disposes of both."""

    def __init__(self, target: Target, *, creates_database: bool = True) -> None:
        settings = settings_for(target.database_url, target.plugins)
        self._engine = open_engine(settings, creates_database=creates_database)
        try:
            tenant_id = resolve_tenant(self._engine, target.tenant)
            app = create_app(settings, engine=self._engine)
            setattr(app.state, IN_PROCESS_PRINCIPAL, Principal(tenant_id, frozenset(PERMISSIONS)))
            http = httpx.Client(
                transport=PortalTransport(app), base_url=LOCAL_BASE_URL, timeout=None
            )
        except BaseException:
            self._engine.dispose()
            raise
        super().__init__(http)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._engine.dispose()
