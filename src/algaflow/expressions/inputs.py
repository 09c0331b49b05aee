"""Cut an evaluation context down to what an expression reads, before the engine converts it.

The engine evaluates a converted document with the GIL released (so a runaway expression cannot
stall other threads), but converting costs time in proportion to the document. Contexts carry the
whole payload and every variable while most expressions read a field or two, so only the fields
the engine's own static analysis (``reads``) names are kept: the engine guarantees an input cut
down that way gives the same result.
"""

from __future__ import annotations

from typing import Any

# What jlens' ``Expression.reads()["input"]`` holds: True for a whole value, else the fields read.
Read = bool | dict[str, Any]


def prune_to_reads(value: Any, read: Read) -> Any:
    """``value`` without the fields ``read`` leaves out; lists keep every item, each cut the same.

    Objects keep their own key order, which an expression may observe (``$keys``, output order).
    """
    if read is True or not isinstance(read, dict):
        return value
    if isinstance(value, dict):
        return {
            key: prune_to_reads(child, read[key]) for key, child in value.items() if key in read
        }
    if isinstance(value, list | tuple):
        return [prune_to_reads(item, read) for item in value]
    return value
