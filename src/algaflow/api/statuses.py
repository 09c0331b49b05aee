"""Each error code's HTTP status: the one place a code meets HTTP.

Domain errors carry a code only; the API answers with the status this table gives it, and the CLI
derives its exit codes from the same table, so a code can never leave with two statuses. A test
walks every code raised in the source and requires an entry here. This module imports nothing,
so the CLI can read it without loading the server.
"""

from __future__ import annotations

STATUS_BY_CODE: dict[str, int] = {
    # --- requests and authentication
    "INVALID_JSON": 400,
    "INVALID_REQUEST": 400,
    "JSON_TOO_DEEP": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "PAYLOAD_TOO_LARGE": 413,
    "INTERNAL_ERROR": 500,
    "NON_JSON_VALUE": 500,
    # --- the database
    "UNSTORABLE_VALUE": 400,
    "CONSTRAINT_VIOLATION": 409,
    "DATABASE_BUSY": 503,
    "DATABASE_CONFLICT": 503,
    "DATABASE_UNAVAILABLE": 503,
    "DATABASE_NOT_MIGRATED": 503,
    # The run backend is misconfigured, missing, or its server cannot be reached.
    "RUNTIME_UNKNOWN": 500,
    "TEMPORAL_NEEDS_POSTGRESQL": 500,
    "TEMPORAL_NOT_INSTALLED": 500,
    "TEMPORAL_UNAVAILABLE": 503,
    # --- tenants, API keys, configuration
    "INVALID_TENANT_NAME": 400,
    "INVALID_PERMISSION": 400,
    "TENANT_NOT_FOUND": 404,
    "API_KEY_NOT_FOUND": 404,
    "TENANT_NAME_CONFLICT": 409,
    "INVALID_BASE_URL": 400,
    "FILE_NOT_READABLE": 400,
    "SERVER_UNREACHABLE": 503,
    "PLUGIN_LOAD_FAILED": 400,
    "SCHEMA_DIR_INVALID": 400,
    "INVALID_SETTINGS": 500,
    "DATABASE_NOT_FOUND": 503,
    "PROFILE_NOT_FOUND": 400,
    "INVALID_PROFILE": 400,
    "INVALID_CONFIG_FILE": 400,
    "PORT_IN_USE": 500,
    "CANNOT_LISTEN": 500,
    "SCHEMA_FILE_INVALID": 400,
    # --- definitions
    "INVALID_WORKFLOW_KEY": 400,
    "INVALID_FIELD": 422,
    "INVALID_EXPORTED_AT": 400,
    "INVALID_WORKFLOW_DEFINITION": 400,
    "WORKFLOW_NOT_FOUND": 404,
    "WORKFLOW_VERSION_NOT_FOUND": 404,
    "WORKFLOW_KEY_CONFLICT": 409,
    "WORKFLOW_VERSION_CONFLICT": 409,
    "DRAFT_VERSION_CONFLICT": 409,
    # --- registry
    "REGISTRY_INVALID": 400,
    "REGISTRY_DUPLICATE": 409,
    "NODE_CONFIG_INVALID": 400,
    "SCHEMA_NOT_FOUND": 404,
    "ACTION_NOT_FOUND": 404,
    "ACTION_INPUT_INVALID": 400,
    "ACTION_OUTPUT_INVALID": 400,
    # --- expressions
    "EXPRESSION_SYNTAX_ERROR": 400,
    "EXPRESSION_EMPTY": 400,
    "EXPRESSION_DISALLOWED_FUNCTION": 400,
    "EXPRESSION_LAMBDA": 400,
    "EXPRESSION_DYNAMIC_CALL": 400,
    "EXPRESSION_INVALID_APPLY": 400,
    "EXPRESSION_UNDEFINED_RESULT": 400,
    "EXPRESSION_RESULT_TOO_LARGE": 400,
    "EXPRESSION_TIMEOUT": 400,
    "EXPRESSION_LIMIT_EXCEEDED": 400,
    "EXPRESSION_EVALUATION_FAILED": 400,
    "EXPRESSION_TIME_UNSET": 500,  # a caller evaluated $nowIso() without giving the time
    "INVALID_ASSIGN_PATH": 400,
    # --- runs, events, tasks
    "PAYLOAD_VALIDATION_FAILED": 400,
    "UNKNOWN_PAYLOAD_SCHEMA_REF": 400,
    "WORKFLOW_PAYLOAD_SCHEMA_UNAVAILABLE": 400,
    "TRIGGER_MAPPING_FAILED": 400,
    "TRIGGER_MAPPING_REQUIRED": 400,
    "RUN_NOT_FOUND": 404,
    "TASK_NOT_FOUND": 404,
    "WORKFLOW_NOT_PUBLISHED": 409,
    "WORKFLOW_PAUSED": 409,
    "RUN_NOT_CANCELABLE": 409,
    "TASK_ALREADY_COMPLETED": 409,
    "CONCURRENCY_LIMIT_REACHED": 429,
    # --- bundles (the first six are Alga's WorkflowBundleImportError codes)
    "INVALID_BUNDLE": 400,
    "UNSUPPORTED_FORMAT": 400,
    "UNSUPPORTED_FORMAT_VERSION": 400,
    "SCHEMA_VALIDATION_FAILED": 400,
    "MISSING_DEPENDENCIES": 400,
    "DUPLICATE_WORKFLOW_KEY": 400,
    "UNRESOLVED_WORKFLOW_REFERENCE": 400,
    "DUPLICATE_PUBLISHED_VERSION": 400,
    "INVALID_DRAFT_VERSION": 400,
    "INVALID_BINDINGS": 400,
    "UNKNOWN_REFERENCE_KIND": 400,
    "BINDINGS_NOT_INJECTIVE": 400,
    "UNRESOLVED_REFERENCES": 400,
    "UNRESOLVED_BINDINGS": 400,
    "EXPORT_SELECTION_EMPTY": 400,
    "NOTHING_TO_EXPORT": 404,
    "CONCURRENT_IMPORT": 409,
    "ACTIVE_RUNS_AFFECTED": 409,
    "PRUNE_WOULD_DELETE_ALL": 409,
}


def status_for(code: str) -> int:
    """The HTTP status of ``code``; a code missing from the table is a server fault (500)."""
    return STATUS_BY_CODE.get(code, 500)
