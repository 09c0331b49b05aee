"""A stand-in for a process killed after a service call committed its runs, before driving them.

Runs are always driven durably, so "recorded but nobody drives it" only happens when a process
dies in between: these helpers make that happen on purpose, at that exact point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from algaflow.services import backends


class ProcessDied(BaseException):
    """Nothing in algaflow catches it, as nothing survives a killed process."""


def killed_before_driving(call: Callable[[], Any]) -> list[str]:
    """Run ``call`` (a service call) so that it dies right after its transaction committed;
    returns the ids of the runs it left for a driver to take."""
    left: list[str] = []

    def die(_uow: Any, _tenant_id: str, run_ids: Sequence[str], **_: Any) -> None:
        left.extend(run_ids)
        raise ProcessDied

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backends, "drive_runs", die)  # the embedded backend's execution
        with pytest.raises(ProcessDied):
            call()
    return left
