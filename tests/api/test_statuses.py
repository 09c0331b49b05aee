"""Every error code raised in the source has exactly one HTTP status, in one table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from algaflow.api.statuses import STATUS_BY_CODE, status_for

SRC = Path(__file__).resolve().parents[2] / "src" / "algaflow"
CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")
#: Constructors whose first argument is an error code that can reach a caller.
ERROR_TYPES = {"AlgaflowError", "BundleError", "ExpressionError", "ActionSchemaError"}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(SRC.rglob("*.py"))]


def _constants(modules: list[tuple[Path, ast.Module]]) -> dict[str, str]:
    """Module-level ``NAME = "CODE"`` assignments, the way codes are named as constants."""
    found: dict[str, str] = {}
    for _, tree in modules:
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                and CODE.match(node.value.value)
            ):
                found[node.targets[0].id] = node.value.value
    return found


def _raised_codes() -> dict[str, str]:
    """code -> where it is raised, for every error constructed with a code known in the source."""
    modules = _modules()
    constants = _constants(modules)
    raised: dict[str, str] = {}
    for path, tree in modules:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in ERROR_TYPES:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                code = first.value
            elif isinstance(first, ast.Name) and first.id in constants:
                code = constants[first.id]
            else:
                continue  # a code passed through a variable: raised where it was chosen
            raised.setdefault(code, f"{path.relative_to(SRC)}:{node.lineno}")
    return raised


def test_every_raised_code_has_a_status():
    raised = _raised_codes()
    assert len(raised) > 60  # the walk finds the codes (a broken walk would pass vacuously)
    missing = {code: where for code, where in raised.items() if code not in STATUS_BY_CODE}
    assert missing == {}


def test_every_status_in_the_table_belongs_to_a_code_of_the_source():
    source = "\n".join(path.read_text() for path in SRC.rglob("*.py") if path.name != "statuses.py")
    unused = [code for code in STATUS_BY_CODE if f'"{code}"' not in source]
    assert unused == []


def test_statuses_are_http_error_statuses_and_unknown_codes_are_server_faults():
    assert all(400 <= status < 600 for status in STATUS_BY_CODE.values())
    assert status_for("NO_SUCH_CODE") == 500
