"""Index the event name of workflow triggers, so an event finds the workflows it starts directly.

Expression indexes over the JSON that already holds the trigger (a version's
``definition_json.trigger.eventName`` and a workflow row's ``trigger.eventName``): no new column,
so no writer (create, publish, import, metadata updates) has anything to keep up to date, and
existing rows are covered the moment the index is built. The expressions must stay identical to
``algaflow.store.tables.JsonText`` for the databases to use them.

Revision ID: 0003_trigger_event
Revises: 0002
"""

from alembic import op

revision = "0003_trigger_event"
down_revision = "0002"
branch_labels = None
depends_on = None

_INDEXES = {
    "sqlite": (
        "CREATE INDEX ix_workflow_definition_versions_trigger_event ON "
        "workflow_definition_versions "
        "(tenant, json_extract(definition_json, '$.trigger.eventName'))",
        "CREATE INDEX ix_workflow_definitions_trigger_event ON "
        "workflow_definitions (tenant, json_extract(\"trigger\", '$.eventName'))",
    ),
    "postgresql": (
        "CREATE INDEX ix_workflow_definition_versions_trigger_event ON "
        "workflow_definition_versions "
        "(tenant, ((definition_json -> 'trigger') ->> 'eventName'))",
        "CREATE INDEX ix_workflow_definitions_trigger_event ON "
        "workflow_definitions (tenant, (\"trigger\" ->> 'eventName'))",
    ),
}


def upgrade() -> None:
    for statement in _INDEXES[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX ix_workflow_definitions_trigger_event")
    op.execute("DROP INDEX ix_workflow_definition_versions_trigger_event")
