"""Workflow definitions: the store of drafts and versions, the strict model, publish."""
