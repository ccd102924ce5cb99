"""Disclosure control: every count sndskit publishes goes through this package.

- :mod:`.threshold` — the threshold rule (the only comparison of a count with it), the one
  mask label, the notes written in every output;
- :mod:`.problem`, :mod:`.suppress`, :mod:`.audit` — one suppression pattern per publication
  over every table and margin, proven by linear programming before anything is written;
- :mod:`.tables` — apply a pattern to rows and write CSVs stating the threshold;
- :mod:`.publish` — ``OUT/private`` (person-level) and ``OUT/export`` (releasable, ``EXPORT.md``);
- :mod:`.ledger` — what was already released from a data source, refusing differencing;
- :mod:`.scan` — ``sndskit export check``: the automatic control before files leave.
"""

from sndskit.disclosure.audit import AuditResult, audit_pattern
from sndskit.disclosure.problem import Problem
from sndskit.disclosure.suppress import DisclosureError, Protection, protect
from sndskit.disclosure.threshold import (
    DEFAULT_THRESHOLD,
    MASK,
    check_threshold,
    is_small,
    threshold_note,
    threshold_warning,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MASK",
    "AuditResult",
    "DisclosureError",
    "Problem",
    "Protection",
    "audit_pattern",
    "check_threshold",
    "is_small",
    "protect",
    "threshold_note",
    "threshold_warning",
]
