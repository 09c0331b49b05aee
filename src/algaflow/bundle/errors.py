"""The bundle's error type: Alga's ``WorkflowBundleImportError`` codes plus algaflow's own.

Each code has one HTTP status, fixed here, so export, import, the API and the CLI cannot disagree
about what a failure means. Unknown codes are refused: a typo would otherwise become a new "stable"
code that nobody handles. Every message and ``details`` is bounded in size (``limits``): an
error about a hostile bundle must not be bigger than a few kilobytes.
"""

from __future__ import annotations

from typing import Any

from algaflow.bundle.limits import MAX_MESSAGE_CHARS, bound_details, clip
from algaflow.errors import AlgaflowError

#: code -> HTTP status. The first six are Alga's whole code union (reference §5.11).
BUNDLE_ERROR_STATUS: dict[str, int] = {
    "INVALID_BUNDLE": 400,
    "UNSUPPORTED_FORMAT": 400,
    "UNSUPPORTED_FORMAT_VERSION": 400,
    "SCHEMA_VALIDATION_FAILED": 400,
    "MISSING_DEPENDENCIES": 400,
    "WORKFLOW_KEY_CONFLICT": 409,
    # algaflow additions (docs/compatibility.md)
    "INVALID_JSON": 400,
    "DUPLICATE_WORKFLOW_KEY": 400,
    "INVALID_WORKFLOW_DEFINITION": 400,
    "UNRESOLVED_WORKFLOW_REFERENCE": 400,
    "DUPLICATE_PUBLISHED_VERSION": 400,
    "WORKFLOW_NOT_FOUND": 404,
    # a value the database cannot store (NUL, lone surrogate, NaN, out-of-range number, NULL mode)
    "UNSTORABLE_VALUE": 400,
    # another import or writer changed the same workflows at the same moment: retry
    "CONCURRENT_IMPORT": 409,
    # draftVersion < 1, or not above every published version
    "INVALID_DRAFT_VERSION": 400,
}


class BundleError(AlgaflowError):
    """A bundle failure with one of :data:`BUNDLE_ERROR_STATUS`'s codes; status follows the code."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        if code not in BUNDLE_ERROR_STATUS:
            raise ValueError(f"unknown bundle error code {code!r}")
        super().__init__(
            code,
            clip(message, MAX_MESSAGE_CHARS),
            status=BUNDLE_ERROR_STATUS[code] if status is None else status,
            details=None if details is None else bound_details(details),
        )
