"""The connection type every repository function takes, named for its callers.

The embedded runtime holds a connection and passes it on, but builds no SQL; importing the type
from here keeps SQLAlchemy out of its imports (an import-linter contract checks that).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

__all__ = ["Connection"]
