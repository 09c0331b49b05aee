"""The interpreter and its driver: persisted runs, steps, waits, action invocations and events.

``core`` decides (pure: definition + run state + one input -> next state and effects), ``driver``
performs the effects and persists the state after every step, ``service`` is what the API, the CLI
and the tests call.
"""

RUNTIME_SEMANTICS_VERSION = "2026-04-08.algaflow-embedded.v1"
