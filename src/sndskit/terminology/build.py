"""Build the terminology part of the store: concepts, synonyms, relations, search index.

Called by ``sndskit data import`` after the catalogue. Every loader reads what exists in
the reference folder and skips what is absent, so the built-in sample yields a small but
working terminology.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

import duckdb

from sndskit.errors import SndskitError
from sndskit.store import insert_rows
from sndskit.terminology.codes import expand_code_pattern
from sndskit.terminology.model import (
    VOCABULARIES,
    ConceptRow,
    SynonymRow,
    TerminologyBatch,
    is_codable,
)
from sndskit.text import stem, words

Loader = Callable[[Path], TerminologyBatch]


def default_loaders() -> tuple[Loader, ...]:
    """Every vocabulary loader, CIM-10 first (curated synonyms attach to loaded codes)."""
    from sndskit.terminology.loaders.biology import load_biology
    from sndskit.terminology.loaders.ccam import load_ccam
    from sndskit.terminology.loaders.cim10 import load_cim10
    from sndskit.terminology.loaders.devices import load_devices
    from sndskit.terminology.loaders.drugs import load_drugs
    from sndskit.terminology.loaders.ghm import load_ghm
    from sndskit.terminology.loaders.reference import load_reference_lists

    return (
        load_cim10,
        load_reference_lists,
        load_ccam,
        load_biology,
        load_devices,
        load_ghm,
        load_drugs,
    )


SCHEMA = [
    "CREATE TABLE concepts (concept_id INTEGER PRIMARY KEY, vocabulary VARCHAR, code VARCHAR, "
    "label VARCHAR, parent VARCHAR, level INTEGER, valid_from DATE, valid_to DATE, "
    "source VARCHAR, parent_id INTEGER)",
    "CREATE TABLE synonyms (vocabulary VARCHAR, code VARCHAR, text VARCHAR, kind VARCHAR, "
    "source VARCHAR)",
    "CREATE TABLE relations (vocabulary_1 VARCHAR, code_1 VARCHAR, relation VARCHAR, "
    "vocabulary_2 VARCHAR, code_2 VARCHAR, inferred BOOLEAN, source VARCHAR, "
    "concept_id_1 INTEGER, concept_id_2 INTEGER)",
    "CREATE TABLE vocabularies (vocabulary VARCHAR PRIMARY KEY, description VARCHAR, "
    "concepts BIGINT, version VARCHAR)",
    # Search index: texts are labels and synonyms; search_vocab maps each normalised word
    # to the texts that hold it (read into memory by sndskit.terminology.index).
    "CREATE TABLE search_texts (text_id INTEGER PRIMARY KEY, concept_id INTEGER, kind VARCHAR, "
    "text VARCHAR, n_words INTEGER)",
    "CREATE TABLE search_vocab (word VARCHAR PRIMARY KEY, stem VARCHAR, text_ids INTEGER[])",
]


def _abbreviation_rows() -> list[dict[str, str]]:
    path = resources.files("sndskit") / "resources" / "terminology" / "abbreviations_fr.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def curated_synonyms(concepts: dict[tuple[str, str], ConceptRow]) -> list[SynonymRow]:
    """Attach curated abbreviations and lay terms to the concepts their codes name."""
    by_vocab: dict[str, list[str]] = {}
    for vocabulary, code in concepts:
        by_vocab.setdefault(vocabulary, []).append(code)
    rows = []
    source_file = "resources/terminology/abbreviations_fr.csv"
    for line, entry in enumerate(_abbreviation_rows(), start=2):
        vocabulary = entry["vocabulary"].strip().upper()
        if vocabulary not in VOCABULARIES:
            raise SndskitError(
                f"unknown vocabulary {vocabulary!r}",
                file=source_file,
                line=line,
                field="vocabulary",
                allowed=VOCABULARIES,
            )
        codable = [c for c in by_vocab.get(vocabulary, []) if is_codable(vocabulary, c)]
        for pattern in entry["codes"].split():
            for code in expand_code_pattern(pattern, codable, top_only=True):
                rows.append(
                    SynonymRow(
                        vocabulary, code, entry["term"].strip(), entry["kind"].strip(), source_file
                    )
                )
    return rows


def _levels(concepts: dict[tuple[str, str], ConceptRow]) -> dict[tuple[str, str], int]:
    """Depth of each concept (1 = root), following parents; a broken chain counts as root."""
    levels: dict[tuple[str, str], int] = {}
    for key in concepts:
        chain = []
        node: tuple[str, str] | None = key
        while node is not None and node not in levels and node not in chain:
            chain.append(node)
            concept = concepts.get(node)
            parent = concept.parent if concept else None
            node = (node[0], parent) if parent and (node[0], parent) in concepts else None
        depth = levels.get(node, 0) if node is not None and node not in chain else 0
        for item in reversed(chain):
            depth += 1
            levels[item] = depth
    return levels


def merge_batches(batches: Iterable[TerminologyBatch]) -> TerminologyBatch:
    """One batch from many: first concept wins on duplicates; levels computed here."""
    concepts: dict[tuple[str, str], ConceptRow] = {}
    synonyms, relations, versions = [], [], {}
    for batch in batches:
        for concept in batch.concepts:
            concepts.setdefault((concept.vocabulary, concept.code), concept)
        synonyms.extend(batch.synonyms)
        relations.extend(batch.relations)
        versions.update(batch.versions)
    synonyms.extend(curated_synonyms(concepts))
    levels = _levels(concepts)
    ordered = sorted(concepts.items())  # concept ids follow (vocabulary, code)
    rows = [c._replace(level=c.level or levels[key]) for key, c in ordered]
    return TerminologyBatch(rows, synonyms, relations, versions)


def _search_rows(
    batch: TerminologyBatch, ids: dict[tuple[str, str], int]
) -> tuple[list[tuple], list[tuple]]:
    texts, postings = [], {}
    labelled = [(c.vocabulary, c.code, "label", c.label) for c in batch.concepts]
    synonyms = [(s.vocabulary, s.code, s.kind, s.text) for s in batch.synonyms]
    for vocabulary, code, kind, text in labelled + synonyms:
        concept_id = ids.get((vocabulary, code))
        if concept_id is None:  # a synonym of a code no loader produced
            continue
        distinct = list(dict.fromkeys(words(text, drop_stopwords=True)))
        text_id = len(texts)
        texts.append((text_id, concept_id, kind, text, len(distinct)))
        for word in distinct:
            postings.setdefault(word, []).append(text_id)
    vocab = [(word, stem(word), ids_) for word, ids_ in sorted(postings.items())]
    return texts, vocab


def write_terminology(
    con: duckdb.DuckDBPyConnection, root: Path, loaders: tuple[Loader, ...] | None = None
) -> dict[str, int]:
    """Load every vocabulary found under ``root`` into the store; return concept counts."""
    batch = merge_batches(loader(root) for loader in loaders or default_loaders())
    for statement in SCHEMA:
        con.execute(statement)
    ids = {(c.vocabulary, c.code): i for i, c in enumerate(batch.concepts)}
    insert_rows(
        con,
        "concepts",
        [(i, *c, ids.get((c.vocabulary, c.parent))) for i, c in enumerate(batch.concepts)],
    )
    insert_rows(con, "synonyms", batch.synonyms)
    insert_rows(
        con,
        "relations",
        [
            (*r, ids[(r.vocabulary_1, r.code_1)], ids[(r.vocabulary_2, r.code_2)])
            for r in batch.relations
            if (r.vocabulary_1, r.code_1) in ids and (r.vocabulary_2, r.code_2) in ids
        ],
    )
    counts: dict[str, int] = {}
    for concept in batch.concepts:
        counts[concept.vocabulary] = counts.get(concept.vocabulary, 0) + 1
    insert_rows(
        con,
        "vocabularies",
        [(v, VOCABULARIES[v], counts[v], batch.versions.get(v, "")) for v in sorted(counts)],
    )
    texts, vocab = _search_rows(batch, ids)
    insert_rows(con, "search_texts", texts)
    insert_rows(con, "search_vocab", vocab)
    return counts
