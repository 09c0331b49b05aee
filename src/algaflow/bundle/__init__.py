"""Workflow bundles (``alga-psa.workflow-bundle`` v1): canonical JSON, collation, dependency
summaries, the v1 schema and the pure pre-import checks. Export/import build on these."""

from algaflow.bundle.canonical import (
    canonicalize,
    dumps_canonical,
    dumps_canonical_bytes,
    loads_json,
)
from algaflow.bundle.collation import locale_compare, locale_compare_key, sort_locale
from algaflow.bundle.dependencies import (
    collect_dependency_summary,
    derive_dependencies,
    merge_dependency_summaries,
    workflow_dependency_summary,
)
from algaflow.bundle.errors import BUNDLE_ERROR_CODES, BundleError
from algaflow.bundle.format import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_VERSION,
    WORKFLOW_KEY_PATTERN,
    find_duplicate_keys,
    is_valid_workflow_key,
    schema_errors,
    validate_bundle,
    validate_bundle_header,
    validate_bundle_schema,
)

__all__ = [
    "BUNDLE_ERROR_CODES",
    "BUNDLE_FORMAT",
    "BUNDLE_FORMAT_VERSION",
    "WORKFLOW_KEY_PATTERN",
    "BundleError",
    "canonicalize",
    "collect_dependency_summary",
    "derive_dependencies",
    "dumps_canonical",
    "dumps_canonical_bytes",
    "find_duplicate_keys",
    "is_valid_workflow_key",
    "loads_json",
    "locale_compare",
    "locale_compare_key",
    "merge_dependency_summaries",
    "schema_errors",
    "sort_locale",
    "validate_bundle",
    "validate_bundle_header",
    "validate_bundle_schema",
    "workflow_dependency_summary",
]
