"""Helpers for tests and trials that are shipped with the package (stand-in plugins)."""
