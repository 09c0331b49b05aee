"""Bounds on what a refused bundle costs: problems collected, counted and echoed back.

A bundle of 300 KB can hold 100,000 empty workflows and so half a million schema errors. Listing
them all took 18 s of CPU and a 98 MB answer, so every check collects at most
:data:`MAX_REPORTED_PROBLEMS` problems, counts further ones only up to
:data:`MAX_COUNTED_PROBLEMS` (then stops looking), and :func:`bound_details` caps the size of
whatever an error carries (long strings from the bundle, long lists) so that the answer to any
bundle stays small.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Problems a check lists in its error's details; further ones are only counted.
MAX_REPORTED_PROBLEMS = 100
#: Problems a check counts before it stops looking (the count is then "at least"). Finding one
#: schema error costs about 60 µs, so a check gives up after about 60 ms.
MAX_COUNTED_PROBLEMS = 1_000
#: Characters of one string echoed in an error (keys, paths, values from the bundle).
MAX_ECHOED_CHARS = 200
#: Characters of an error message.
MAX_MESSAGE_CHARS = 1_000
#: Rough budget, in characters, of an error's whole ``details``.
MAX_DETAILS_CHARS = 64_000


@dataclass
class Problems:
    """The first :data:`MAX_REPORTED_PROBLEMS` problems and a count of all found so far."""

    items: list[dict[str, Any]] = field(default_factory=list)
    found: int = 0

    def add(self, problem: dict[str, Any]) -> None:
        self.count(1)
        if len(self.items) < MAX_REPORTED_PROBLEMS:
            self.items.append(problem)

    def count(self, n: int) -> None:
        """Record ``n`` problems without keeping them (cheap counting past the first ones)."""
        self.found += n

    @property
    def full(self) -> bool:
        """Whether to stop looking: enough problems are counted."""
        return self.found >= MAX_COUNTED_PROBLEMS

    @property
    def omitted(self) -> int:
        return self.found - len(self.items)

    def __bool__(self) -> bool:
        return self.found > 0


def listed(key: str, problems: Problems) -> dict[str, Any]:
    """``{key: [...first problems], keyOmitted: n, keyCountComplete: false}``: the count only
    when some were left out, the flag only when counting stopped early."""
    details: dict[str, Any] = {key: problems.items}
    if problems.omitted:
        details[f"{key}Omitted"] = problems.omitted
    if problems.full:
        details[f"{key}CountComplete"] = False  # stopped looking: there may be more
    return details


def more_text(problems: Problems) -> str:
    """`` (and N more)`` for a message, ``at least`` once counting stopped."""
    rest = problems.found - 1
    if rest <= 0:
        return ""
    return f" (and {'at least ' if problems.full else ''}{rest} more)"


def clip(text: str, limit: int = MAX_ECHOED_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def first(items: Iterable[Any]) -> list[Any]:
    """At most :data:`MAX_REPORTED_PROBLEMS` of ``items``."""
    out: list[Any] = []
    for item in items:
        if len(out) == MAX_REPORTED_PROBLEMS:
            break
        out.append(item)
    return out


def bound_details(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` with every string clipped and every list cut to fit the size budget.

    A list cut here gets a sibling ``<name>Omitted`` count (added to any count already there).
    The walk stops at the budget, so its cost is bounded by the budget, not by ``details``.
    """
    budget = [MAX_DETAILS_CHARS]
    return _bound_dict(details, budget)


def _bound_dict(value: dict[str, Any], budget: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, item in value.items():
        name = clip(str(name))
        budget[0] -= len(name) + 4
        if isinstance(item, list):
            kept = _bound_list(item, budget)
            out[name] = kept
            cut = len(item) - len(kept)
            if cut:
                omitted = f"{name}Omitted"
                out[omitted] = int(value.get(omitted, 0)) + cut
        elif name.endswith("Omitted") and name in out:
            continue  # already set above, with this count included, for a list cut here
        else:
            out[name] = _bound(item, budget)
    return out


def _bound_list(items: list[Any], budget: list[int]) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if budget[0] <= 0 or len(kept) == MAX_REPORTED_PROBLEMS:
            break
        kept.append(_bound(item, budget))
    return kept


def _bound(value: Any, budget: list[int]) -> Any:
    if isinstance(value, dict):
        return _bound_dict(value, budget)
    if isinstance(value, list):
        return _bound_list(value, budget)
    if isinstance(value, str):
        value = clip(value)
        budget[0] -= len(value) + 2
        return value
    budget[0] -= 8
    return value
