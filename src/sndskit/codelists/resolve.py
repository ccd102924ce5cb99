"""Resolve a spec against the terminology store into a frozen, explained code list."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from sndskit.codelists.model import CodeEntry, Codelist, ExcludedEntry, Provenance
from sndskit.codelists.spec import CodelistSpec, Rule
from sndskit.config import store_path
from sndskit.specs import dump_spec
from sndskit.terminology.model import is_codable
from sndskit.terminology.relations import follow_relations
from sndskit.terminology.search import (
    ConceptHit,
    find_by_pattern,
    find_concepts,
    search_index,
    store_connection,
)
from sndskit.text import stem, words

_KIND_TO_VIA = {"label": "keyword", "abbreviation": "abbreviation", "lay_term": "abbreviation"}


class _Collector:
    """Entries by (vocabulary, code), each accumulating every reason it was found."""

    def __init__(self) -> None:
        self.labels: dict[tuple[str, str], str] = {}
        self.reasons: dict[tuple[str, str], list[Provenance]] = {}

    def add(self, vocabulary: str, code: str, label: str, why: Provenance) -> None:
        key = (vocabulary, code)
        self.labels.setdefault(key, label)
        reasons = self.reasons.setdefault(key, [])
        if why not in reasons:
            reasons.append(why)


def _rule_hits(rule: Rule, spec: CodelistSpec, store: Path | None) -> tuple[list, list[str]]:
    """Concepts a rule names directly, with how; and warnings (unknown codes)."""
    hits: list[tuple[ConceptHit, Provenance]] = []
    warnings: list[str] = []
    if rule.codes:
        index = search_index(store)
        for code in rule.codes:
            clean = code.strip().replace(".", "").upper()
            concept_id = index.concept_id(rule.vocabulary, clean)
            if concept_id is None:
                warnings.append(
                    f"rule {rule.id}: {rule.vocabulary} code {code} is not in the store"
                )
                continue
            row = index.concept_rows([concept_id])[0]
            hit = ConceptHit(**row, score=100, matched_by="code", matched_text=clean)
            hits.append((hit, Provenance(rule=rule.id, via="code", detail=clean)))
    for pattern in rule.patterns or []:
        for hit in find_by_pattern(pattern, vocabularies=[rule.vocabulary], store=store):
            hits.append((hit, Provenance(rule=rule.id, via="pattern", detail=pattern)))
    excluded_stems = {
        stem(w) for term in rule.exclude_words for w in words(term, drop_stopwords=True)
    }
    for term in rule.terms or []:
        found = find_concepts(
            term,
            vocabularies=[rule.vocabulary],
            valid_at=spec.valid_at,
            allow_typos=rule.allow_typos,
            store=store,
        )
        for hit in found:
            if excluded_stems & {stem(w) for w in words(hit.label)}:
                continue
            via = _KIND_TO_VIA.get(hit.matched_by, "synonym")
            detail = term if hit.matched_text == hit.label else f"{term} ~ {hit.matched_text}"
            hits.append((hit, Provenance(rule=rule.id, via=via, detail=detail)))
        if not found:
            warnings.append(f"rule {rule.id}: no {rule.vocabulary} concept matches {term!r}")
    return hits, warnings


def _descendants(vocabulary: str, code: str, store: Path | None) -> list[dict]:
    index = search_index(store)
    concept_id = index.concept_id(vocabulary, code)
    below = [c for c, _ in index.descendants(concept_id)] if concept_id is not None else []
    return index.concept_rows(below)


def _resolve_rules(spec: CodelistSpec, store: Path | None) -> tuple[_Collector, list[str]]:
    found = _Collector()
    warnings: list[str] = []
    for rule in spec.rules:
        hits, rule_warnings = _rule_hits(rule, spec, store)
        warnings += rule_warnings
        named: dict[str, str] = {}
        for hit, why in hits:
            found.add(hit.vocabulary, hit.code, hit.label, why)
            named[hit.code] = hit.label
        if spec.descendants_for(rule):
            for code in list(named):
                for row in _descendants(rule.vocabulary, code, store):
                    found.add(
                        row["vocabulary"],
                        row["code"],
                        row["label"],
                        Provenance(rule=rule.id, via="descendant", detail=f"below {code}"),
                    )
                    named.setdefault(row["code"], row["label"])
        for target in spec.targets_of(rule):
            related = follow_relations(rule.vocabulary, sorted(named), target, store=store)
            labels = _labels(target, {r.code for r in related}, store)
            for link in related:
                detail = f"{rule.vocabulary} {link.source_code} → {' → '.join(link.chain)}"
                found.add(
                    target,
                    link.code,
                    labels.get(link.code, ""),
                    Provenance(rule=rule.id, via="relation", detail=detail, inferred=link.inferred),
                )
    return found, warnings


def _labels(vocabulary: str, codes: Iterable[str], store: Path | None) -> dict[str, str]:
    index = search_index(store)
    ids = {code: index.concept_id(vocabulary, code) for code in codes}
    rows = index.concept_rows([i for i in ids.values() if i is not None])
    return {row["code"]: row["label"] for row in rows}


def _excluded_keys(spec: CodelistSpec, store: Path | None) -> dict[tuple[str, str], str]:
    """Codes removed by the spec's exclusions (with descendants when the spec says so)."""
    out: dict[tuple[str, str], str] = {}
    vocabularies = spec.vocabularies
    index = search_index(store)
    named: list[tuple[str, str, str]] = []
    for code in spec.exclude.codes:
        clean = code.strip().replace(".", "").upper()
        named += [
            (v, clean, f"excluded code {code}")
            for v in vocabularies
            if index.concept_id(v, clean) is not None
        ]
    for pattern in spec.exclude.patterns:
        named += [
            (h.vocabulary, h.code, f"excluded pattern {pattern}")
            for h in find_by_pattern(pattern, vocabularies=vocabularies, store=store)
        ]
    for term in spec.exclude.terms:
        named += [
            (h.vocabulary, h.code, f"excluded term {term!r}")
            for h in find_concepts(term, vocabularies=vocabularies, store=store)
        ]
    for vocabulary, code, reason in named:
        out.setdefault((vocabulary, code), reason)
        if spec.include_descendants:
            for row in _descendants(vocabulary, code, store):
                out.setdefault((vocabulary, row["code"]), f"{reason} (below {code})")
    return out


def store_versions(store: Path | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Terminology versions per vocabulary, and what identifies the store build."""
    con = store_connection(store)
    versions = dict(con.execute("SELECT vocabulary, version FROM vocabularies").fetchall())
    info = dict(con.execute("SELECT key, value FROM store_info").fetchall())
    manifest = json.loads(info.get("manifest", "{}"))
    identity = {
        "imported_at": manifest.get("imported_at", ""),
        "source": manifest.get("source", ""),
        "is_sample": str(manifest.get("is_sample", "")),
        **{f"sha256:{k}": v["sha256"] for k, v in manifest.get("sources", {}).items()},
    }
    return versions, identity


def build_codelist(spec: CodelistSpec, *, store: Path | None = None) -> Codelist:
    """Resolve ``spec`` into a frozen code list with the provenance of every code.

    >>> from sndskit.codelists.library import get_library_spec   # doctest: +SKIP
    >>> build_codelist(get_library_spec("t2d_diagnoses")).codes()[:3]  # doctest: +SKIP
    ['E11', 'E110', 'E1100']
    """
    store = Path(store or store_path())
    found, warnings = _resolve_rules(spec, store)
    excluded = _excluded_keys(spec, store)
    index = search_index(store)
    entries, removed = [], []
    for key in sorted(found.reasons):
        vocabulary, code = key
        if vocabulary not in spec.vocabularies or not is_codable(vocabulary, code):
            continue  # bridges (ATC, substances) and structure (blocks, chapters) are not kept
        label = found.labels[key]
        if key in excluded:
            removed.append(
                ExcludedEntry(vocabulary=vocabulary, code=code, label=label, reason=excluded[key])
            )
            continue
        if spec.valid_at and not _valid(index, vocabulary, code, spec.valid_at):
            removed.append(
                ExcludedEntry(
                    vocabulary=vocabulary,
                    code=code,
                    label=label,
                    reason=f"not valid on {spec.valid_at}",
                )
            )
            continue
        entries.append(
            CodeEntry(vocabulary=vocabulary, code=code, label=label, found_from=found.reasons[key])
        )
    versions, identity = store_versions(store)
    canonical = dump_spec(spec)
    return Codelist(
        name=spec.name,
        description=spec.description,
        author=spec.author,
        version=spec.version,
        source=spec.source,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        spec=spec,
        spec_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        terminology={
            v: versions[v] for v in sorted({e.vocabulary for e in entries}) if v in versions
        },
        store=identity,
        entries=entries,
        excluded=removed,
        warnings=warnings,
    )


def _valid(index, vocabulary: str, code: str, day) -> bool:
    concept_id = index.concept_id(vocabulary, code)
    if concept_id is None:
        return False
    row = index.concept_rows([concept_id])[0]
    return (row["valid_from"] is None or row["valid_from"] <= day) and (
        row["valid_to"] is None or row["valid_to"] >= day
    )
