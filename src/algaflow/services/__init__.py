"""Use cases: the only entry points that HTTP routes and CLI commands call.

A service function takes a :class:`UnitOfWork` and the caller's tenant, opens its own transaction,
and returns a view only once that transaction has committed. So a reply can never announce a write
that is not yet (or never will be) in the database, whatever the web framework does after it.
"""

from algaflow.services.unit_of_work import UnitOfWork

__all__ = ["UnitOfWork"]
