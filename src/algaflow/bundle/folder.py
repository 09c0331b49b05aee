"""Workflows as files: a folder of bundles read as one bundle.

``bundle export --split DIR`` writes ``DIR/<key>.json``, each a one-workflow v1 bundle (no new
format); ``bundle plan DIR`` and ``bundle import DIR`` read every file of such a folder (or of any
folder of bundles) and import them as one bundle, in one transaction. Each file is checked on its
own first, so an error names the file it is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from algaflow.bundle.canonical import loads_json
from algaflow.bundle.errors import BundleError
from algaflow.bundle.format import BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, validate_bundle

Json = dict[str, Any]


def merge_files(files: Sequence[tuple[str, bytes]]) -> Json:
    """One bundle of the workflows of ``files`` (name, bytes), in file order.

    Every file must be a valid bundle (UTF-8 JSON, header, schema): else its error, naming the
    file in ``details["file"]``. A key held by two files is ``DUPLICATE_WORKFLOW_KEY`` naming
    both. ``exportedAt`` is the latest of the files'.
    """
    if not files:
        raise BundleError("INVALID_BUNDLE", "The folder holds no bundle files.")
    workflows: list[Json] = []
    owners: dict[str, str] = {}
    stamps: list[str] = []
    for name, data in files:
        value = _read(name, data)
        stamps.append(value["exportedAt"])
        for entry in value["workflows"]:
            first = owners.setdefault(entry["key"], name)
            if first != name:
                raise BundleError(
                    "DUPLICATE_WORKFLOW_KEY",
                    f'Workflow key "{entry["key"]}" is in both {first} and {name}.',
                    details={"key": entry["key"], "files": [first, name]},
                )
            workflows.append(entry)
    return {
        "format": BUNDLE_FORMAT,
        "formatVersion": BUNDLE_FORMAT_VERSION,
        "exportedAt": max(stamps),
        "workflows": workflows,
    }


def _read(name: str, data: bytes) -> Json:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(
            "INVALID_JSON",
            f"{name} is not UTF-8 (byte {exc.start}).",
            details={"file": name, "position": exc.start},
        ) from None
    try:
        value = loads_json(text)
        validate_bundle(value)
    except BundleError as exc:
        raise BundleError(
            exc.code, f"{name}: {exc.message}", details={**(exc.details or {}), "file": name}
        ) from None
    result: Json = value
    return result
