"""Alignment quality of a mapping set: coverage, target validity, domains, cardinality,
hierarchy consistency, distributions, drift, review sample, precision and agreement.

:func:`assess_quality` returns one JSON-ready dict (the content of ``quality.json``); each
metric is defined in ``docs/omop.md``. Statistics live in :mod:`sndskit.omop.metrics`.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from sndskit.errors import SndskitError
from sndskit.omop.mappings import Mapping, MappingStatus, MappingType, group_by_source
from sndskit.omop.metrics import drift, share
from sndskit.omop.review import draw_review_sample, review_statistics
from sndskit.omop.source_concepts import TARGET_DOMAINS
from sndskit.omop.vocabulary import describe_concepts
from sndskit.store import connect_store

TOP_UNMAPPED = 20
Usage = dict[tuple[str, str], int]


def normalise_code(vocabulary: str, code: str) -> str:
    """Codes compare without CIM-10 dots and surrounding spaces (``E11.9`` = ``E119``)."""
    code = code.strip()
    return code.replace(".", "").upper() if vocabulary == "CIM10" else code


def read_usage(path: str | Path) -> Usage:
    """Record counts per source code: CSV/TSV with ``vocabulary``, ``code`` and ``records``
    (aliases: ``source_vocabulary``, ``source_code``, ``count``/``frequency``/``n``)."""
    path = Path(path)
    if not path.is_file():
        raise SndskitError("no such usage file", file=path)
    aliases = {
        "vocabulary": ("vocabulary", "source_vocabulary"),
        "code": ("code", "source_code"),
        "records": ("records", "count", "frequency", "n"),
    }
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter="\t" if "\t" in first else ",")
        columns = {}
        for name, options in aliases.items():
            found = next((c for c in options if c in (reader.fieldnames or [])), None)
            if found is None:
                raise SndskitError(
                    f"missing column {name!r}", file=path, line=1, field=name, allowed=list(options)
                )
            columns[name] = found
        usage: Usage = defaultdict(int)
        for row in reader:
            vocabulary = (row[columns["vocabulary"]] or "").strip().upper()
            try:
                records = int((row[columns["records"]] or "").strip())
            except ValueError:
                raise SndskitError(
                    f"not a count: {row[columns['records']]!r}",
                    file=path,
                    line=reader.line_num,
                    field=columns["records"],
                    allowed=["a whole number ≥ 0"],
                ) from None
            if records < 0:
                raise SndskitError(
                    "negative count",
                    file=path,
                    line=reader.line_num,
                    field=columns["records"],
                    allowed=["a whole number ≥ 0"],
                )
            usage[(vocabulary, normalise_code(vocabulary, row[columns["code"]] or ""))] += records
    return dict(usage)


def _source_hierarchy(store: Path | None, vocabularies: Iterable[str]) -> tuple[dict, dict]:
    """Parents and labels of the source codes (empty when no store)."""
    if store is None or not Path(store).exists():
        return {}, {}
    con = connect_store(Path(store))
    try:
        rows = con.execute(
            "SELECT vocabulary, code, parent, label FROM concepts "
            "WHERE list_contains(?, vocabulary)",
            [sorted(set(vocabularies))],
        ).fetchall()
    except duckdb.CatalogException:
        return {}, {}
    finally:
        con.close()
    parents = {(v, normalise_code(v, c)): normalise_code(v, p) for v, c, p, _ in rows if p}
    labels = {(v, normalise_code(v, c)): label for v, c, _, label in rows}
    return parents, labels


def _coverage(by_code, usage, labels, vocabularies, valid) -> tuple[list[dict], list[dict]]:
    """Per vocabulary: codes and records mapped (any usable target), approved, and mapped to
    a valid standard concept (``valid``: ids of such concepts; None without a vocabulary)."""
    rows, unmapped_rows = [], []
    for vocabulary in vocabularies:
        scope = {k for k in by_code if k[0] == vocabulary} | {
            k for k in usage if k[0] == vocabulary
        }
        mapped = {k for k in scope if any(m.is_mapped for m in by_code.get(k, ()))}
        approved = {
            k
            for k in mapped
            if any(m.is_mapped and m.status == MappingStatus.APPROVED for m in by_code[k])
        }
        standard = (
            {
                k
                for k in mapped
                if any(m.is_mapped and m.target_concept_id in valid for m in by_code[k])
            }
            if valid is not None
            else None
        )
        # Records: the usage file when given (a code absent from it was not seen: 0), else
        # the mapping file's sourceFrequency (None when unknown).
        weights = {k: usage.get(k, 0) if usage else _frequency(by_code.get(k, ())) for k in scope}
        known = [k for k in scope if weights[k] is not None]
        total = sum(weights[k] for k in known)
        records = {
            "records_total": total if known else None,
            "records_mapped": sum(weights[k] for k in known if k in mapped) if known else None,
            "records_approved": sum(weights[k] for k in known if k in approved) if known else None,
            "records_standard": sum(weights[k] for k in known if k in standard)
            if known and standard is not None
            else None,
        }
        in_vocabulary = sum(1 for k in labels if k[0] == vocabulary)
        rows.append(
            {
                "vocabulary": vocabulary,
                "codes": len(scope),
                "codes_mapped": len(mapped),
                "codes_approved": len(approved),
                "share_codes_mapped": share(len(mapped), len(scope)),
                "share_codes_approved": share(len(approved), len(scope)),
                "codes_standard": None if standard is None else len(standard),
                "share_codes_standard": None
                if standard is None
                else share(len(standard), len(scope)),
                **records,
                "share_records_mapped": share(records["records_mapped"] or 0, total)
                if known
                else None,
                "share_records_approved": share(records["records_approved"] or 0, total)
                if known
                else None,
                "share_records_standard": share(records["records_standard"] or 0, total)
                if known and standard is not None
                else None,
                "records_source": "usage file" if usage else "sourceFrequency",
                "codes_in_vocabulary": in_vocabulary or None,
                "share_vocabulary_mapped": share(len(mapped), in_vocabulary)
                if in_vocabulary
                else None,
            }
        )
        unmapped = sorted(
            (k for k in known if k not in mapped and weights[k] > 0),
            key=lambda k: (-weights[k], k[1]),
        )
        for k in unmapped[:TOP_UNMAPPED]:
            name = labels.get(k) or next((m.source_name for m in by_code.get(k, ())), "")
            unmapped_rows.append(
                {
                    "vocabulary": vocabulary,
                    "code": k[1],
                    "name": name,
                    "records": weights[k],
                    "share_of_records": share(weights[k], total),
                }
            )
    return rows, unmapped_rows


def _frequency(mappings: Sequence[Mapping]) -> int | None:
    values = [m.source_frequency for m in mappings if m.source_frequency is not None]
    return max(values) if values else None


def _targets(mappings: list[Mapping], concepts: dict[int, dict], today: date) -> dict:
    unknown, non_standard, deprecated = [], [], []
    for m in mappings:
        if m.target_concept_id == 0:
            continue
        row = {
            "vocabulary": m.source_vocabulary,
            "code": m.source_code,
            "target_concept_id": m.target_concept_id,
            "status": m.status.value,
        }
        info = concepts.get(m.target_concept_id)
        if info is None:
            unknown.append(row)
            continue
        row["target_name"] = info["concept_name"]
        if info["standard_concept"] != "S":
            non_standard.append({**row, "standard_concept": info["standard_concept"]})
        end = info["valid_end_date"]
        if info["invalid_reason"] or (end is not None and end < today):
            deprecated.append({**row, "invalid_reason": info["invalid_reason"]})
    checked = sum(1 for m in mappings if m.target_concept_id)
    problems = {
        (r["vocabulary"], r["code"], r["target_concept_id"])
        for r in unknown + non_standard + deprecated
    }
    return {
        "checked": checked,
        "unknown": len(unknown),
        "non_standard": len(non_standard),
        "deprecated": len(deprecated),
        "share_valid_standard": share(checked - len(problems), checked),
        "examples": {
            "unknown": unknown[:20],
            "non_standard": non_standard[:20],
            "deprecated": deprecated[:20],
        },
    }


def _domains(mappings: list[Mapping], concepts: dict[int, dict]) -> list[dict]:
    per_vocabulary: dict[str, list] = defaultdict(list)
    for m in mappings:
        info = concepts.get(m.target_concept_id)
        if m.is_mapped and m.mapping_type == MappingType.MAPS_TO and info:
            per_vocabulary[m.source_vocabulary].append((m, info["domain_id"]))
    result = []
    for vocabulary, items in sorted(per_vocabulary.items()):
        allowed = TARGET_DOMAINS.get(vocabulary)
        wrong = [(m, d) for m, d in items if allowed and d not in allowed]
        result.append(
            {
                "vocabulary": vocabulary,
                "allowed": list(allowed or []),
                "checked": len(items),
                "conforming": len(items) - len(wrong),
                "share_conforming": share(len(items) - len(wrong), len(items)) if allowed else None,
                "domains": dict(Counter(d for _, d in items).most_common()),
                "examples": [
                    {
                        "code": m.source_code,
                        "target_concept_id": m.target_concept_id,
                        "target_name": m.target_name,
                        "domain": d,
                    }
                    for m, d in wrong[:20]
                ],
            }
        )
    return result


def _cardinality(by_code: dict) -> dict:
    targets_of = {
        k: {
            m.target_concept_id for m in ms if m.is_mapped and m.mapping_type == MappingType.MAPS_TO
        }
        for k, ms in by_code.items()
    }
    mapped = {k: t for k, t in targets_of.items() if t}
    one_to_many = sorted(k for k, t in mapped.items() if len(t) > 1)
    sources_of: dict[int, set] = defaultdict(set)
    for k, targets in mapped.items():
        for t in targets:
            sources_of[t].add(k)
    many = sorted(
        ((t, s) for t, s in sources_of.items() if len(s) > 1), key=lambda x: (-len(x[1]), x[0])
    )
    return {
        "mapped_codes": len(mapped),
        "one_to_many": len(one_to_many),
        "share_one_to_many": share(len(one_to_many), len(mapped)),
        "many_to_one_targets": len(many),
        "max_sources_per_target": max((len(s) for _, s in many), default=1 if mapped else 0),
        "examples": {
            "one_to_many": [
                {"code": f"{v} {c}", "targets": sorted(mapped[(v, c)])} for v, c in one_to_many[:20]
            ],
            "many_to_one": [
                {
                    "target_concept_id": t,
                    "sources": [f"{v} {c}" for v, c in sorted(s)[:10]],
                    "count": len(s),
                }
                for t, s in many[:20]
            ],
        },
    }


def _hierarchy(by_code: dict, parents: dict, vocab: duckdb.DuckDBPyConnection | None) -> dict:
    """A child is consistent when one of its targets is (a descendant of) one of the targets
    of its nearest mapped ancestor in the source hierarchy (``CONCEPT_ANCESTOR``)."""
    targets = {
        k: {
            m.target_concept_id for m in ms if m.is_mapped and m.mapping_type == MappingType.MAPS_TO
        }
        for k, ms in by_code.items()
    }
    targets = {k: t for k, t in targets.items() if t}
    pairs = []
    for k in sorted(targets):
        node = parents.get(k)
        seen = set()
        while node and (k[0], node) not in targets and node not in seen:
            seen.add(node)
            node = parents.get((k[0], node))
        if node and (k[0], node) in targets:
            pairs.append((k, (k[0], node)))
    if vocab is None or not pairs:
        return {"checked": 0, "consistent": 0, "share_consistent": None, "examples": []}
    ancestors = sorted({t for _, a in pairs for t in targets[a]})
    below: dict[int, set[int]] = defaultdict(set)
    for ancestor, descendant in vocab.execute(
        "SELECT ancestor_concept_id, descendant_concept_id FROM concept_ancestor "
        "WHERE ancestor_concept_id IN (SELECT unnest(?))",
        [ancestors],
    ).fetchall():
        below[ancestor].add(descendant)
    inconsistent = []
    for child, ancestor in pairs:
        allowed = set().union(*(below[t] | {t} for t in targets[ancestor]))
        if not targets[child] & allowed:
            inconsistent.append(
                {
                    "code": f"{child[0]} {child[1]}",
                    "targets": sorted(targets[child]),
                    "ancestor": ancestor[1],
                    "ancestor_targets": sorted(targets[ancestor]),
                }
            )
    return {
        "checked": len(pairs),
        "consistent": len(pairs) - len(inconsistent),
        "share_consistent": share(len(pairs) - len(inconsistent), len(pairs)),
        "examples": inconsistent[:50],
    }


def assess_quality(
    mappings: Sequence[Mapping],
    *,
    vocab: duckdb.DuckDBPyConnection | None = None,
    store: Path | None = None,
    usage: Usage | None = None,
    previous: Sequence[Mapping] | None = None,
    review: list[dict] | None = None,
    sample_size: int = 200,
    seed: int = 7,
    today: date | None = None,
) -> dict:
    """Every alignment-quality metric of ``mappings`` as one JSON-ready dict."""
    today = today or date.today()
    mappings = [
        m.model_copy(update={"source_code": normalise_code(m.source_vocabulary, m.source_code)})
        for m in mappings
    ]
    usage = usage or {}
    by_code = group_by_source(mappings)
    vocabularies = sorted({k[0] for k in by_code} | {k[0] for k in usage})
    parents, labels = _source_hierarchy(store, vocabularies)
    concepts = describe_concepts(vocab, {m.target_concept_id for m in mappings}) if vocab else {}
    valid = (
        {
            i
            for i, c in concepts.items()
            if c["standard_concept"] == "S"
            and not c["invalid_reason"]
            and (c["valid_end_date"] is None or c["valid_end_date"] >= today)
        }
        if vocab
        else None
    )
    coverage, top_unmapped = _coverage(by_code, usage, labels, vocabularies, valid)
    sample = draw_review_sample(mappings, sample_size, seed=seed)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": {
            "mappings": len(mappings),
            "source_codes": len(by_code),
            "usage_codes": len(usage),
            "previous": len(previous) if previous is not None else None,
            "vocabulary_database": vocab is not None,
            "source_hierarchy": bool(parents),
        },
        "coverage": coverage,
        "top_unmapped": top_unmapped,
        "status": {
            v: dict(Counter(m.status.value for m in mappings if m.source_vocabulary == v))
            for v in vocabularies
        },
        "equivalence": {
            v: dict(Counter(m.equivalence.value for m in mappings if m.source_vocabulary == v))
            for v in vocabularies
        },
        "targets": _targets(mappings, concepts, today) if vocab else None,
        "domains": _domains(mappings, concepts) if vocab else None,
        "cardinality": _cardinality(by_code),
        "hierarchy": _hierarchy(by_code, parents, vocab),
        "drift": drift(previous, mappings) if previous is not None else None,
        "review_sample": {
            "size": len(sample),
            "seed": seed,
            "strata": dict(Counter(r["stratum"] for r in sample)),
        },
        "review": review_statistics(review) if review else None,
    }
    report["_sample_rows"] = sample
    return report


__all__ = ["assess_quality", "normalise_code", "read_usage"]
