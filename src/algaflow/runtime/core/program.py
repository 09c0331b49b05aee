"""A published definition prepared for execution: steps by path, expressions compiled once."""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from typing import Any

from algaflow.expressions import CompiledExpression, compile_expression
from algaflow.kernel.jsonb import jsonb_key_order

_SEGMENT = re.compile(r"\[(\d+)\]|\.(then|else|body|try|catch)\.steps")


def definition_hash(definition: dict[str, Any]) -> str:
    """sha256 hex of the definition's JSON text (keys sorted, so a JSONB round trip keeps it)."""
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Program:
    """One definition; ``sequence(path)`` gives the step list a frame walks."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.definition = definition = jsonb_key_order(definition)
        steps = definition.get("steps")
        self.root: list[Any] = steps if isinstance(steps, list) else []
        self._sequences: dict[str, list[Any]] = {"root.steps": self.root}

    def sequence(self, path: str) -> list[Any] | None:
        """The step list at a frame path such as ``root.steps[2].then.steps``; None if invalid."""
        cached = self._sequences.get(path)
        if cached is not None:
            return cached
        if not path.startswith("root.steps"):
            return None
        seq: Any = self.root
        step: Any = None
        for match in _SEGMENT.finditer(path, len("root.steps")):
            index, branch = match.groups()
            if index is not None:
                if not isinstance(seq, list) or int(index) >= len(seq):
                    return None
                step = seq[int(index)]
            else:
                if not isinstance(step, dict):
                    return None
                seq = step.get(branch) or []
        if not isinstance(seq, list):
            return None
        self._sequences[path] = seq
        return seq

    def step(self, path: str) -> dict[str, Any] | None:
        """The step object at a step path such as ``root.steps[1].body.steps[0]``."""
        head, _, index = path.rpartition("[")
        seq = self.sequence(head)
        if seq is None or not index.endswith("]") or not index[:-1].isdigit():
            return None
        i = int(index[:-1])
        step = seq[i] if i < len(seq) else None
        return step if isinstance(step, dict) else None


@lru_cache(maxsize=4096)
def compiled(source: str) -> CompiledExpression:
    """A compiled expression, shared by every run (compilation is pure)."""
    return compile_expression(source)
