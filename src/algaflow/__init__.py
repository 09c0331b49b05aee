"""algaflow: Alga PSA Workflow Runtime V2 definitions, bundles and runs, in Python."""

__version__ = "0.1.0"
