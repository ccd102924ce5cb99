"""The review sample: draw it stratified, read it back filled, estimate precision and agreement.

Reviewers fill ``verdict_1`` (and, for double review, ``verdict_2``; ``verdict_final`` settles a
disagreement) with CORRECT, INCORRECT or UNSURE. A row's verdict is ``verdict_final`` when
given, else the verdict the reviewers agree on (or the only one given); UNSURE and
unresolved disagreements are left out of the precision and counted.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from sndskit.errors import SndskitError
from sndskit.io import atomic_path
from sndskit.omop.mappings import Mapping
from sndskit.omop.metrics import cohen_kappa, stratified_precision

VERDICTS = ("CORRECT", "INCORRECT", "UNSURE")
REVIEW_COLUMNS = [
    "stratum",
    "stratum_size",
    "source_vocabulary",
    "source_code",
    "source_name",
    "target_concept_id",
    "target_name",
    "status",
    "equivalence",
    "reviewer_1",
    "verdict_1",
    "reviewer_2",
    "verdict_2",
    "verdict_final",
    "comment",
]


def draw_review_sample(
    mappings: list[Mapping], size: int = 200, *, seed: int = 7, minimum: int = 5
) -> list[dict]:
    """Stratified random sample of mapping rows with a target, strata = vocabulary × status;
    proportional allocation with at least ``minimum`` rows per stratum (all when fewer)."""
    strata: dict[str, list[Mapping]] = defaultdict(list)
    for m in mappings:
        if m.target_concept_id > 0:
            strata[f"{m.source_vocabulary}/{m.status.value}"].append(m)
    total = sum(len(v) for v in strata.values())
    rng = np.random.default_rng(seed)
    rows = []
    for name in sorted(strata):
        members = sorted(strata[name], key=lambda m: m.key)
        take = min(len(members), max(minimum, round(size * len(members) / total)))
        for i in sorted(rng.choice(len(members), size=take, replace=False).tolist()):
            m = members[i]
            rows.append(
                {
                    "stratum": name,
                    "stratum_size": len(members),
                    "source_vocabulary": m.source_vocabulary,
                    "source_code": m.source_code,
                    "source_name": m.source_name,
                    "target_concept_id": m.target_concept_id,
                    "target_name": m.target_name,
                    "status": m.status.value,
                    "equivalence": m.equivalence.value,
                }
            )
    return rows


def write_review_sample(rows: list[dict], path: Path) -> Path:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, REVIEW_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in REVIEW_COLUMNS} for row in rows)
    return Path(path)


def read_review(path: str | Path) -> list[dict]:
    """A filled review sample: verdicts CORRECT, INCORRECT or UNSURE (or empty)."""
    path = Path(path)
    if not path.is_file():
        raise SndskitError("no such review file", file=path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [
            c
            for c in ("stratum", "stratum_size", "verdict_1")
            if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise SndskitError(
                f"missing column {missing[0]!r}",
                file=path,
                line=1,
                field=missing[0],
                allowed=REVIEW_COLUMNS,
            )
        rows = []
        for row in reader:
            for column in ("verdict_1", "verdict_2", "verdict_final"):
                value = (row.get(column) or "").strip().upper()
                if value and value not in VERDICTS:
                    raise SndskitError(
                        f"unknown verdict {row[column]!r}",
                        file=path,
                        line=reader.line_num,
                        field=column,
                        allowed=list(VERDICTS),
                    )
                row[column] = value
            try:
                row["stratum_size"] = int(row["stratum_size"])
            except ValueError:
                raise SndskitError(
                    "not a count",
                    file=path,
                    line=reader.line_num,
                    field="stratum_size",
                    allowed=["a whole number"],
                ) from None
            rows.append(row)
    return rows


def review_statistics(rows: list[dict]) -> dict:
    """Precision (stratified, 95 % Wilson) and Cohen's kappa from a filled review sample."""
    per_stratum: dict[str, list] = defaultdict(lambda: [0, 0, 0])
    unresolved = 0
    for row in rows:
        v1, v2, final = (
            row.get("verdict_1", ""),
            row.get("verdict_2", ""),
            row.get("verdict_final", ""),
        )
        verdict = final or (v1 if not v2 or v1 == v2 else "") or (v2 if not v1 else "")
        entry = per_stratum[row["stratum"]]
        entry[0] = max(entry[0], int(row["stratum_size"]))
        if verdict in ("CORRECT", "INCORRECT"):
            entry[1] += 1
            entry[2] += verdict == "CORRECT"
        elif v1 and v2 and v1 != v2:
            unresolved += 1
    strata = [
        {
            "stratum": name,
            "population": big_n,
            "reviewed": n,
            "correct": x,
            **{
                k: v
                for k, v in stratified_precision([(big_n, n, x)]).items()
                if k in ("estimate", "low", "high")
            },
        }
        for name, (big_n, n, x) in sorted(per_stratum.items())
    ]
    overall = stratified_precision([(s["population"], s["reviewed"], s["correct"]) for s in strata])
    pairs = [
        (r["verdict_1"], r["verdict_2"]) for r in rows if r.get("verdict_1") and r.get("verdict_2")
    ]
    kappa = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])
    return {
        "precision": overall,
        "strata": strata,
        "kappa": kappa,
        "disagreements_unresolved": unresolved,
        "items": len(rows),
    }


__all__ = ["draw_review_sample", "read_review", "review_statistics", "write_review_sample"]
