"""JSONata expressions as Alga's Workflow Runtime V2 uses them (reference §2).

Normalisation, algaflow's own allow-list scanner, the five workflow functions, limits and
post-checks, the evaluation contexts, mapping resolution and node-handler assignments. The engine
(jlens) is only imported by :mod:`algaflow.expressions.engine`.
"""

from algaflow.expressions.assignments import apply_node_assignments, is_valid_node_assign_path
from algaflow.expressions.contexts import build_interpreter_context, build_node_context
from algaflow.expressions.engine import (
    DEFAULT_TIMEOUT_MS,
    CompiledExpression,
    compile_expression,
    validate_expression_source,
)
from algaflow.expressions.errors import ExpressionError, MappingError
from algaflow.expressions.functions import ALLOWED_FUNCTIONS
from algaflow.expressions.mapping import (
    SecretResolver,
    is_expr,
    is_secret_ref,
    resolve_expressions,
    resolve_input_mapping,
    resolve_mapping_value,
)
from algaflow.expressions.normalize import normalize_expression_source
from algaflow.expressions.results import MAX_OUTPUT_CHARS
from algaflow.expressions.timing import evaluation_time, steps_only

__all__ = [
    "ALLOWED_FUNCTIONS",
    "DEFAULT_TIMEOUT_MS",
    "MAX_OUTPUT_CHARS",
    "CompiledExpression",
    "ExpressionError",
    "MappingError",
    "SecretResolver",
    "apply_node_assignments",
    "build_interpreter_context",
    "build_node_context",
    "compile_expression",
    "evaluation_time",
    "is_expr",
    "is_secret_ref",
    "is_valid_node_assign_path",
    "normalize_expression_source",
    "resolve_expressions",
    "resolve_input_mapping",
    "resolve_mapping_value",
    "steps_only",
    "validate_expression_source",
]
