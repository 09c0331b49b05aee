"""Actions for the worker-kill test, loaded by a worker process as a plugin
(``ALGAFLOW_PLUGINS=tests.runtime.worker_kill_plugin:register``).

Each call appends its action id to the file ``ALGAFLOW_TEST_CALLS`` names, so the test counts
calls across processes. ``test.slow`` takes a minute while the file ``<calls>.slow`` exists (the
first worker is killed meanwhile) and returns at once otherwise.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from algaflow.registry import Registry
from algaflow.registry.actions import ActionDef

ANY_OBJECT = {"type": "object"}
SCHEMA = "payload.Test.v1"


def calls_file() -> Path:
    return Path(os.environ["ALGAFLOW_TEST_CALLS"])


def _record(action_id: str) -> None:
    with calls_file().open("a") as out:
        out.write(action_id + "\n")


def _once(args: dict[str, Any], ctx: Any) -> Any:
    _record("test.once")
    return {"done": True}


def _slow(args: dict[str, Any], ctx: Any) -> Any:
    _record("test.slow")
    slow = calls_file().with_suffix(".slow")
    deadline = time.monotonic() + 60
    while slow.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"slow": True}


def register(registry: Registry) -> None:
    registry.actions.register(ActionDef("test.once", 1, ANY_OBJECT, ANY_OBJECT, _once))
    registry.actions.register(ActionDef("test.slow", 1, ANY_OBJECT, ANY_OBJECT, _slow))
    if not registry.schemas.has(SCHEMA):
        registry.schemas.register(SCHEMA, {"type": "object"})
