"""What every registry starts with: 8 node types, 21 transform actions, 3 payload schemas."""

from __future__ import annotations

from algaflow.registry.builtins import node_handlers as handlers
from algaflow.registry.builtins import node_schemas as schemas
from algaflow.registry.builtins.payload_schemas import PAYLOAD_SCHEMAS
from algaflow.registry.nodes import NodeTypeDef
from algaflow.registry.transforms import TRANSFORM_ACTIONS

NODE_TYPES: list[NodeTypeDef] = [
    NodeTypeDef(
        "state.set",
        schemas.STATE_SET,
        handlers.state_set,
        title="Set State",
        category="Core",
        description="Update the workflow state",
    ),
    NodeTypeDef(
        "transform.assign",
        schemas.TRANSFORM_ASSIGN,
        handlers.transform_assign,
        title="Assign",
        category="Transform",
        description="Assign values into payload or vars",
    ),
    NodeTypeDef(
        "action.call",
        schemas.ACTION_CALL,
        None,
        schemas.action_call_checks,
        title="Call Action",
        category="Action",
        description="Invoke a registered action",
    ),
    NodeTypeDef(
        "event.wait",
        schemas.EVENT_WAIT,
        None,
        schemas.event_wait_checks,
        title="Wait for Event",
        category="Core",
        description="Wait for an external event",
    ),
    NodeTypeDef(
        "time.wait",
        schemas.TIME_WAIT,
        None,
        title="Wait for Time",
        category="Core",
        description="Wait for a duration or until a time",
    ),
    NodeTypeDef(
        "human.task",
        schemas.HUMAN_TASK,
        None,
        title="Human Task",
        category="Core",
        description="Pause for human task completion",
    ),
    NodeTypeDef(
        "email.parseBody",
        schemas.EMAIL_PARSE_BODY,
        handlers.email_parse_body,
        title="Parse Email Body",
        category="Email",
        description="Parse and sanitize email reply body",
    ),
    NodeTypeDef(
        "email.renderCommentBlocks",
        schemas.EMAIL_RENDER_COMMENT_BLOCKS,
        handlers.email_render_comment_blocks,
        title="Render Comment Blocks",
        category="Email",
        description="Render comment blocks from email content",
    ),
]

__all__ = ["NODE_TYPES", "PAYLOAD_SCHEMAS", "TRANSFORM_ACTIONS"]
