"""Rules for time-based starts: Alga's cron restrictions, IANA time zones, ISO instants.

Publish validation uses them for inline time triggers (``TIME_TRIGGER_*``); external schedules
(``CRON_INVALID``, ``TIMEZONE_INVALID``, ``RUN_AT_INVALID``) follow the same rules.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

_CRON_FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_ITEM = re.compile(r"(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?")


def cron_problem(cron: str) -> str | None:
    """Why ``cron`` is not an acceptable recurring schedule (Alga's rules), or ``None``."""
    if len(cron) > 128:
        return "Cron expression must be at most 128 characters"
    fields = cron.split()
    if len(fields) != 5:
        return "Cron expression must have exactly 5 fields"
    for text, (low, high) in zip(fields, _CRON_FIELD_RANGES, strict=True):
        if not re.fullmatch(r"[0-9*/,\-]+", text):
            return f'Cron field "{text}" may only use digits and * / , -'
        for item in text.split(","):
            match = _CRON_ITEM.fullmatch(item)
            numbers = [int(g) for g in (match.group(2, 3) if match else ()) if g is not None]
            if not match or match.group(4) == "0" or any(not low <= n <= high for n in numbers):
                return f'Cron field "{text}" is not valid (allowed values {low}-{high})'
    if fields[2] != "*" and fields[4] != "*":
        return "Cron expression cannot restrict both day-of-month and day-of-week"
    if re.fullmatch(r"\*(/0*[1-4])?", fields[0]) and all(f == "*" for f in fields[1:]):
        return "Cron expression must not run more often than every 5 minutes"
    return None


def is_valid_timezone(name: Any) -> bool:
    """Whether ``name`` is an IANA time zone known to this system."""
    if not isinstance(name, str) or not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError, OSError for odd keys: all "invalid"
        return False
    return True


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (no zone means UTC), or ``None``."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
