"""Runs: the interpreter core, its backends, and what they share.

``core`` decides (pure: definition + run state + ``now`` + one input -> next state and effects,
typed), ``embedded`` performs the effects in this process and persists the state after every step,
and ``envelope`` fills an event's envelope the same way for every backend. The API, the CLI and the
tests start and drive runs through ``algaflow.services``.
"""

RUNTIME_SEMANTICS_VERSION = "2026-04-08.algaflow-embedded.v1"
