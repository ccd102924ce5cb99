"""Pure statistics of alignment quality: Wilson interval, stratified precision, Cohen's kappa,
drift between two mapping versions. No I/O; every function is property-tested.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from sndskit.omop.mappings import Mapping

Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95 % interval


def share(part: float, whole: float) -> float | None:
    """``part / whole``, or None when ``whole`` is 0.

    >>> share(1, 4), share(0, 0)
    (0.25, None)
    """
    return part / whole if whole else None


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (``n`` may be an effective, non-integer size).

    >>> [round(x, 4) for x in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        return (0.0, 1.0)
    p = min(max(successes / n, 0.0), 1.0)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def stratified_precision(strata: Sequence[tuple[int, int, int]], z: float = Z95) -> dict:
    """Precision estimated from a stratified sample.

    ``strata`` holds ``(population_size, reviewed, correct)`` per stratum. The estimate is
    ``p = Σ W_h p_h`` with ``W_h = N_h / Σ N_h`` over strata that have reviewed items;
    its variance ``Σ W_h² p_h (1 - p_h) / n_h`` gives the effective sample size
    ``n_eff = p (1 - p) / var`` used in the Wilson interval (``n_eff = Σ n_h`` when the
    variance is 0). With proportional allocation this is the plain Wilson interval.

    >>> result = stratified_precision([(100, 10, 8), (100, 10, 8)])
    >>> result["estimate"], result["n"], result["n_effective"]
    (0.8, 20, 20.0)
    """
    used = [(big_n, n, x) for big_n, n, x in strata if n > 0 and big_n > 0]
    reviewed = sum(n for _, n, _ in used)
    if not used:
        return {"estimate": None, "low": 0.0, "high": 1.0, "n": 0, "n_effective": 0.0}
    total = sum(big_n for big_n, _, _ in used)
    estimate = sum(big_n / total * x / n for big_n, n, x in used)
    estimate = min(max(estimate, 0.0), 1.0)
    variance = sum((big_n / total) ** 2 * (x / n) * (1 - x / n) / n for big_n, n, x in used)
    if variance > 0 and 0 < estimate < 1:
        n_effective = estimate * (1 - estimate) / variance
    else:
        n_effective = float(reviewed)
    low, high = wilson_interval(estimate * n_effective, n_effective, z)
    return {
        "estimate": estimate,
        "low": low,
        "high": high,
        "n": reviewed,
        "n_effective": round(n_effective, 6),
    }


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> dict:
    """Cohen's kappa of two raters on the same items (any categories).

    Identical ratings give κ = 1, also when a single category is used (where the textbook
    formula is 0/0: perfect agreement is reported as 1).

    >>> cohen_kappa(["C", "C", "I", "I"], ["C", "I", "I", "I"])["kappa"]
    0.5
    """
    if len(first) != len(second):
        raise ValueError("both raters must rate the same items")
    n = len(first)
    if n == 0:
        return {"kappa": None, "observed_agreement": None, "expected_agreement": None, "n": 0}
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    count_a, count_b = Counter(first), Counter(second)
    expected = sum(count_a[c] * count_b[c] for c in count_a.keys() | count_b.keys()) / (n * n)
    if expected >= 1.0:
        kappa = 1.0 if observed >= 1.0 else 0.0
    else:
        kappa = (observed - expected) / (1 - expected)
    return {
        "kappa": max(-1.0, min(1.0, kappa)),
        "observed_agreement": observed,
        "expected_agreement": expected,
        "n": n,
    }


def _mapped_targets(mappings: Iterable[Mapping]) -> dict[tuple[str, str], frozenset]:
    targets: dict[tuple[str, str], set] = {}
    for m in mappings:
        if m.is_mapped:
            targets.setdefault(m.source, set()).add((m.target_concept_id, m.mapping_type.value))
    return {k: frozenset(v) for k, v in targets.items()}


def drift(previous: Iterable[Mapping], current: Iterable[Mapping], examples: int = 20) -> dict:
    """What changed between two mapping versions, per source code and per mapping row.

    * ``added`` / ``removed``: codes mapped (a usable target) now and not before / before
      and not now; ``retargeted``: mapped in both with a different set of targets;
    * ``status_changes`` / ``equivalence_changes``: transitions ``OLD→NEW`` counted over
      mapping rows (same source code, target and type) present in both versions.

    ``drift(a, a)`` is empty; ``drift(a, b)["added"] == drift(b, a)["removed"]``.
    """
    previous, current = list(previous), list(current)
    before, after = _mapped_targets(previous), _mapped_targets(current)
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    retargeted = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    old_rows = {m.key: m for m in previous}
    statuses, equivalences = Counter(), Counter()
    for m in current:
        old = old_rows.get(m.key)
        if old is None:
            continue
        if old.status != m.status:
            statuses[f"{old.status.value}→{m.status.value}"] += 1
        if old.equivalence != m.equivalence:
            equivalences[f"{old.equivalence.value}→{m.equivalence.value}"] += 1
    codes_before = {m.source for m in previous}
    codes_after = {m.source for m in current}

    def show(keys):
        return [f"{v} {c}" for v, c in keys[:examples]]

    return {
        "added": len(added),
        "removed": len(removed),
        "retargeted": len(retargeted),
        "unchanged": len(before.keys() & after.keys()) - len(retargeted),
        "codes_new": len(codes_after - codes_before),
        "codes_dropped": len(codes_before - codes_after),
        "status_changes": dict(sorted(statuses.items())),
        "equivalence_changes": dict(sorted(equivalences.items())),
        "examples": {
            "added": show(added),
            "removed": show(removed),
            "retargeted": show(retargeted),
        },
    }


__all__ = ["cohen_kappa", "drift", "share", "stratified_precision", "wilson_interval"]
