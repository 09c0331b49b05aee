"""The import/export guide stays true: its example is a valid canonical bundle, its error table
lists every bundle error code with the status the code really has."""

from __future__ import annotations

import re
from pathlib import Path

from algaflow.api.statuses import status_for
from algaflow.bundle.canonical import dumps_canonical, loads_json
from algaflow.bundle.errors import BUNDLE_ERROR_CODES
from algaflow.bundle.format import validate_bundle

GUIDE = Path(__file__).resolve().parents[2] / "docs/guides/workflows/workflow-import-export.md"


def test_example_bundle_is_valid_and_canonical() -> None:
    example = GUIDE.read_text("utf-8").split("\n## Example\n", 1)[1]
    block = re.search(r"```json\n(.*?)```", example, re.S)
    assert block is not None
    text = block.group(1)
    bundle = loads_json(text)
    validate_bundle(bundle)
    assert dumps_canonical(bundle) == text


def test_error_table_matches_the_codes() -> None:
    section = GUIDE.read_text("utf-8").split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \|", section, re.M))
    assert {code: int(status) for code, status in rows.items()} == {
        code: status_for(code) for code in BUNDLE_ERROR_CODES
    }
