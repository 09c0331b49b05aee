"""A small HTTP client for the commands when they talk to a running server."""

from __future__ import annotations

from typing import Any

import httpx

from algaflow.kernel.errors import AlgaflowError


class ApiClient:
    """Calls the algaflow HTTP API; error bodies come back as :class:`AlgaflowError`."""

    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = 300.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            self._http = httpx.Client(
                base_url=base_url.rstrip("/"), headers=headers, timeout=timeout
            )
        except httpx.InvalidURL as exc:
            message = f"Invalid --base-url {base_url!r}: {exc}"
            raise AlgaflowError("INVALID_BASE_URL", message) from None

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise AlgaflowError(
                "SERVER_UNREACHABLE", f"Cannot reach {self._http.base_url}: {exc}"
            ) from None
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):  # not an algaflow server, or a proxy's error page
            body = {}
        raise AlgaflowError(
            body.get("code") or f"HTTP_{response.status_code}",
            body.get("error") or response.text or response.reason_phrase,
            details=body.get("details"),
        )
