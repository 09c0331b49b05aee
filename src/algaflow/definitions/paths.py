"""Step paths (``root.steps[1].then.steps[0]``), shared by publish errors and runtime rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: The nested step lists of each control block, in document order.
BRANCHES: dict[str, tuple[str, ...]] = {
    "control.if": ("then", "else"),
    "control.forEach": ("body",),
    "control.tryCatch": ("try", "catch"),
}

ROOT = "root"
_STEP_PATH_PREFIX = re.compile(
    r"root(?:\.steps\[\d+\](?:\.(?:then|else|body|try|catch)\.steps\[\d+\])*)?"
)


def step_path(prefix: str, index: int) -> str:
    """Path of the ``index``-th step of the list at ``prefix`` (``root`` or a branch path)."""
    return f"{prefix}.steps[{index}]"


def child_path(parent: str, branch: str, index: int) -> str:
    """Path of the ``index``-th step in ``branch`` (then/else/body/try/catch) of ``parent``."""
    return step_path(f"{parent}.{branch}", index)


def walk_steps(steps: Any, prefix: str = ROOT) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every step object of the tree, depth first in document order, with its path.

    Tolerates malformed input (non-list branches, non-object steps are skipped but keep their
    index), because publish validation walks definitions that failed the schema too.
    """
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        path = step_path(prefix, index)
        yield path, step
        kind = step.get("type")
        for branch in BRANCHES.get(kind, ()) if isinstance(kind, str) else ():
            yield from walk_steps(step.get(branch), f"{path}.{branch}")


def iter_steps(steps: Any) -> Iterator[dict[str, Any]]:
    """The steps :func:`walk_steps` yields, in the same order, without building their paths
    (for walks that only look at the steps: half the cost)."""
    if not isinstance(steps, list):
        return
    stack = [iter(steps)]
    while stack:
        for step in stack[-1]:
            if not isinstance(step, dict):
                continue
            yield step
            kind = step.get("type")
            branches = BRANCHES.get(kind, ()) if isinstance(kind, str) else ()
            nested = [step.get(b) for b in branches]
            lists = [branch for branch in nested if isinstance(branch, list)]
            if lists:
                stack.extend(iter(branch) for branch in reversed(lists))
                break
        else:
            stack.pop()


def enclosing_step_path(path: str) -> str:
    """The innermost step path that ``path`` (a step path plus field segments) lies in."""
    match = _STEP_PATH_PREFIX.match(path)
    return match.group(0) if match else ROOT
