"""Checks every run, event and task input passes before anything is written.

The databases cannot store some JSON values (NUL, lone surrogates, non-finite numbers); refusing
them up front (``UNSTORABLE_VALUE``) makes SQLite and PostgreSQL answer alike. Payloads have the
size limit Alga PSA applies to runs (``PAYLOAD_TOO_LARGE``).
"""

from __future__ import annotations

import json
from typing import Any

from algaflow.kernel.errors import AlgaflowError
from algaflow.store.types import unstorable_paths

MAX_PAYLOAD_BYTES = 512 * 1024


def check_storable(**fields: Any) -> None:
    """``UNSTORABLE_VALUE`` listing every value in ``fields`` the databases cannot store."""
    problems = [{"instancePath": p, "message": m} for p, m in unstorable_paths(fields)]
    if problems:
        first = problems[0]
        raise AlgaflowError(
            "UNSTORABLE_VALUE",
            f"{first['instancePath']}: {first['message']}",
            details={"errors": problems},
        )


def check_payload_size(payload: Any) -> None:
    """``PAYLOAD_TOO_LARGE`` for a run or event payload over 512 KiB of UTF-8 JSON."""
    size = len(json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8", "replace"))
    if size > MAX_PAYLOAD_BYTES:
        raise AlgaflowError(
            "PAYLOAD_TOO_LARGE",
            "Workflow run payload exceeds 512 KiB",
            details={"maxBytes": MAX_PAYLOAD_BYTES, "bytes": size},
        )
