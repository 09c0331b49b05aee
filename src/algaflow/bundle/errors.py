"""The bundle's error type: Alga's ``WorkflowBundleImportError`` codes plus algaflow's own.

Unknown codes are refused: a typo would otherwise become a new "stable"
code that nobody handles. Every message and ``details`` is bounded in size (``limits``): an
error about a hostile bundle must not be bigger than a few kilobytes.
"""

from __future__ import annotations

from typing import Any

from algaflow.bundle.limits import MAX_MESSAGE_CHARS, bound_details, clip
from algaflow.kernel.errors import AlgaflowError

#: Every code a bundle failure may carry. The first six are Alga's whole code union (reference
#: §5.11); the rest are algaflow's (docs/compatibility.md). Their HTTP statuses live in the API.
BUNDLE_ERROR_CODES = frozenset(
    {
        "INVALID_BUNDLE",
        "UNSUPPORTED_FORMAT",
        "UNSUPPORTED_FORMAT_VERSION",
        "SCHEMA_VALIDATION_FAILED",
        "MISSING_DEPENDENCIES",
        "WORKFLOW_KEY_CONFLICT",
        "INVALID_JSON",
        "DUPLICATE_WORKFLOW_KEY",
        "INVALID_WORKFLOW_DEFINITION",
        "UNRESOLVED_WORKFLOW_REFERENCE",
        "DUPLICATE_PUBLISHED_VERSION",
        "WORKFLOW_NOT_FOUND",
        # a value the database cannot store (NUL, lone surrogate, NaN, out-of-range number, NULL)
        "UNSTORABLE_VALUE",
        # another import or writer changed the same workflows at the same moment: retry
        "CONCURRENT_IMPORT",
        # draftVersion < 1, or not above every published version
        "INVALID_DRAFT_VERSION",
        # force or prune would delete a published version a RUNNING or WAITING run is on
        "ACTIVE_RUNS_AFFECTED",
        # a prune would delete every workflow of its scope
        "PRUNE_WOULD_DELETE_ALL",
        # environment-specific references: a bindings file that cannot be used, and references
        # (or binding targets) the target tenant lacks
        "INVALID_BINDINGS",
        "UNKNOWN_REFERENCE_KIND",
        "BINDINGS_NOT_INJECTIVE",
        "UNRESOLVED_REFERENCES",
        "UNRESOLVED_BINDINGS",
    }
)


class BundleError(AlgaflowError):
    """A bundle failure with one of :data:`BUNDLE_ERROR_CODES`."""

    def __init__(self, code: str, message: str, *, details: dict[str, Any] | None = None) -> None:
        if code not in BUNDLE_ERROR_CODES:
            raise ValueError(f"unknown bundle error code {code!r}")
        super().__init__(
            code,
            clip(message, MAX_MESSAGE_CHARS),
            details=None if details is None else bound_details(details),
        )
