"""Values the commands' options and exit codes need, owned by modules that import SQLAlchemy or
jsonschema when loaded (``algaflow.store``, ``algaflow.runtime``, ``algaflow.bundle``).

They are mirrored here so ``algaflow --help`` and server-mode commands start without loading
those libraries; ``tests/cli/test_cli_startup.py`` pins every value to its owner's.
"""

from __future__ import annotations

#: algaflow.store.tenants.DEFAULT_TENANT_NAME
DEFAULT_TENANT_NAME = "default"
#: algaflow.store.workflows.INT4_MAX (the largest version number a database stores)
INT4_MAX = 2**31 - 1
#: algaflow.store.run_tables.RUN_STATUSES
RUN_STATUSES = ("RUNNING", "WAITING", "SUCCEEDED", "FAILED", "CANCELED")
#: algaflow.runtime.service.DEFAULT_LIMIT
DEFAULT_RUN_LIMIT = 100
#: algaflow.runtime.embedded.worker.DEFAULT_INTERVAL_S
DEFAULT_WORKER_INTERVAL_S = 1.0
#: The codes of algaflow.bundle.BUNDLE_ERROR_CODES whose status is 400 ("the bundle is wrong").
INVALID_BUNDLE_CODES = frozenset(
    {
        "INVALID_BUNDLE",
        "UNSUPPORTED_FORMAT",
        "UNSUPPORTED_FORMAT_VERSION",
        "SCHEMA_VALIDATION_FAILED",
        "MISSING_DEPENDENCIES",
        "INVALID_JSON",
        "DUPLICATE_WORKFLOW_KEY",
        "INVALID_WORKFLOW_DEFINITION",
        "UNRESOLVED_WORKFLOW_REFERENCE",
        "DUPLICATE_PUBLISHED_VERSION",
        "UNSTORABLE_VALUE",
        "INVALID_DRAFT_VERSION",
    }
)
