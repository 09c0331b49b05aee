"""The ``algaflow`` command."""
