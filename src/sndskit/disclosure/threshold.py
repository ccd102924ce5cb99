"""The privacy threshold: the only place where a count is compared with it.

The Health Data Hub does not return counts below 11 persons, and the CNIL reference method
MR-007 only lets anonymous results leave the secure environment: by default a count of 1–10
persons is masked. A lower threshold is possible for work that stays inside the enclave, but it
must be asked for explicitly (``unsafe=True``, CLI ``--unsafe-threshold``), is warned about on
every run and is written in every output it produced.
"""

from __future__ import annotations

from sndskit.errors import SndskitError

DEFAULT_THRESHOLD = 10
MASK = "masked"
"""The one label of every suppressed cell (primary or secondary alike)."""


def check_threshold(threshold: int, *, unsafe: bool = False) -> int:
    """The threshold, validated: a positive integer, below the default only when ``unsafe``.

    >>> check_threshold(10)
    10
    >>> check_threshold(5)
    Traceback (most recent call last):
    ...
    sndskit.errors.SndskitError: field 'threshold': ...
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise SndskitError(
            f"the privacy threshold must be a positive whole number of persons, got {threshold!r}"
            " / le seuil doit être un nombre entier de personnes ≥ 1",
            field="threshold",
            allowed=[
                f"1 … {DEFAULT_THRESHOLD - 1} with --unsafe-threshold",
                f"≥ {DEFAULT_THRESHOLD}",
            ],
        )
    if threshold < DEFAULT_THRESHOLD and not unsafe:
        raise SndskitError(
            f"a threshold of {threshold} is below the release rule of {DEFAULT_THRESHOLD} "
            f"(HDH: counts below {DEFAULT_THRESHOLD + 1} are not returned) / seuil inférieur à "
            f"la règle de sortie ({DEFAULT_THRESHOLD})",
            field="threshold",
            allowed=[f"≥ {DEFAULT_THRESHOLD}"],
            hint="add --unsafe-threshold (unsafe_threshold=True) for outputs that stay inside "
            "the secure environment",
        )
    return threshold


def is_unsafe(threshold: int) -> bool:
    return threshold < DEFAULT_THRESHOLD


def is_small(count: float | None, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """True for a count of persons that may not be published: 1 ≤ count ≤ threshold.

    >>> [is_small(n) for n in (0, 1, 10, 11)]
    [False, True, True, False]
    """
    return count is not None and 1 <= count <= threshold


def threshold_note(threshold: int, lang: str = "en") -> str:
    """One line stating the rule, written in every CSV, PNG footer, manifest and report."""
    unsafe = is_unsafe(threshold)
    if lang == "fr":
        text = f"effectifs de 1 à {threshold} personnes masqués (seuil {threshold})"
        return text + (" — SEUIL DANGEREUX, ne pas exporter" if unsafe else "")
    text = f"counts of 1-{threshold} persons masked (threshold {threshold})"
    return text + (" - UNSAFE THRESHOLD, do not export" if unsafe else "")


def threshold_warning(threshold: int) -> str | None:
    """The warning printed on every run with a threshold below the default (None otherwise)."""
    if not is_unsafe(threshold):
        return None
    return (
        f"UNSAFE threshold {threshold} < {DEFAULT_THRESHOLD}: outputs must not leave the secure "
        f"environment / seuil {threshold} < {DEFAULT_THRESHOLD} : les résultats ne doivent pas "
        "sortir de l'environnement sécurisé"
    )
