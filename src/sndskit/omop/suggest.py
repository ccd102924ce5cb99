"""Suggest OMOP standard concepts for unmapped SNDS codes, with scores and evidence.

Four signals, each a score in [0, 1], combined by noisy-or (``1 - Π(1 - s)``):

* **code bridge** (CIM-10): when the vocabulary database holds ``ICD10``/``CIM10``/``ICD10CM``
  concepts, the code written with its dot (``E11.9``) is looked up and its ``Maps to``
  targets are proposed (1.0; 0.9 through the 4-character parent of a French extension);
* **ATC bridge** (drugs): the code's ATC classes (store relations ``*_HAS_ATC``) are looked
  up in the ``ATC`` vocabulary and their standard ingredients (``CONCEPT_ANCESTOR``
  descendants of class ``Ingredient``, or ``ATC - RxNorm`` relationships) proposed (0.9);
* **text**: character 3-gram TF-IDF cosine between the code's labels and the names and
  synonyms of standard concepts. The WHO English label of a CIM-10 code (store synonyms of
  kind ``english``; the nearest ancestor's for French extensions, weighted 0.8) is what
  bridges French to SNOMED; French labels count with weight 0.6 (shared roots:
  *ibuprofène* / *ibuprofen*);
* **hierarchy prior**: candidates below the target of the code's nearest mapped ancestor
  (approved mappings, ``CONCEPT_ANCESTOR``) get 0.25.

Candidates are standard, valid concepts of the domains allowed for the source vocabulary
(:data:`~sndskit.omop.source_concepts.TARGET_DOMAINS`). No model is downloaded; the TF-IDF
index is plain numpy (an inverted index of 3-grams, scores accumulated with ``bincount``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
from pydantic import BaseModel, ConfigDict

from sndskit.config import store_path
from sndskit.errors import SndskitError
from sndskit.omop.mappings import Equivalence, Mapping, MappingStatus
from sndskit.omop.source_concepts import TARGET_DOMAINS
from sndskit.store import connect_store
from sndskit.text import normalise_text

_NON_WORD = re.compile(r"[^a-z0-9]+")
CODE_VOCABULARIES = ("ICD10", "CIM10", "ICD10CM")
DRUG_VOCABULARIES = ("CIP13", "CIP7", "UCD", "CIS", "SUBSTANCE", "ATC")
WEIGHT_ENGLISH, WEIGHT_ANCESTOR_ENGLISH, WEIGHT_FRENCH = 1.0, 0.8, 0.6
HIERARCHY_PRIOR = 0.25


def ngrams(text: str, n: int = 3) -> list[str]:
    """Character n-grams of each normalised word padded with spaces.

    >>> ngrams("Diabète")
    [' di', 'dia', 'iab', 'abe', 'bet', 'ete', 'te ']
    """
    grams = []
    for word in _NON_WORD.sub(" ", normalise_text(text)).split():
        padded = f" {word} "
        grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class NgramIndex:
    """TF-IDF over character 3-grams with an inverted index (numpy arrays, no scipy).

    >>> index = NgramIndex(["Type 2 diabetes mellitus", "Asthma", "Gout"])
    >>> [round(float(s), 2) for s in index.scores("type 2 diabetes")]
    [0.79, 0.0, 0.0]
    """

    def __init__(self, texts: list[str]) -> None:
        self.size = len(texts)
        vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        for doc, text in enumerate(texts):
            for gram, count in Counter(ngrams(text)).items():
                rows.append(vocabulary.setdefault(gram, len(vocabulary)))
                cols.append(doc)
                counts.append(count)
        self.vocabulary = vocabulary
        gram_ids = np.asarray(rows, dtype=np.int64)
        docs = np.asarray(cols, dtype=np.int64)
        tf = np.asarray(counts, dtype=np.float64)
        df = np.bincount(gram_ids, minlength=len(vocabulary)).astype(np.float64)
        self.idf = np.log((1 + self.size) / (1 + df)) + 1.0
        weights = tf * self.idf[gram_ids]
        norms = np.sqrt(np.bincount(docs, weights=weights**2, minlength=self.size))
        weights = weights / np.where(norms > 0, norms, 1.0)[docs]
        order = np.argsort(gram_ids, kind="stable")
        self.postings_doc = docs[order].astype(np.int32)
        self.postings_weight = weights[order].astype(np.float32)
        self.indptr = np.concatenate(
            [[0], np.cumsum(np.bincount(gram_ids, minlength=len(vocabulary)))]
        )

    def scores(self, text: str) -> np.ndarray:
        """Cosine similarity of ``text`` with every indexed text."""
        counts = Counter(g for g in ngrams(text) if g in self.vocabulary)
        if not counts:
            return np.zeros(self.size, dtype=np.float64)
        ids = np.fromiter((self.vocabulary[g] for g in counts), dtype=np.int64)
        q = np.fromiter(counts.values(), dtype=np.float64) * self.idf[ids]
        q /= math.sqrt(float(q @ q))
        starts, ends = self.indptr[ids], self.indptr[ids + 1]
        docs = np.concatenate([self.postings_doc[s:e] for s, e in zip(starts, ends, strict=True)])
        vals = np.concatenate(
            [self.postings_weight[s:e] * w for s, e, w in zip(starts, ends, q, strict=True)]
        )
        # float32 postings: clip the rounding above 1 (cosines are in [0, 1]).
        return np.minimum(np.bincount(docs, weights=vals, minlength=self.size), 1.0)


class Suggestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source_vocabulary: str
    source_code: str
    source_name: str
    rank: int
    concept_id: int
    concept_name: str
    vocabulary_id: str
    domain_id: str
    score: float
    evidence: str

    def as_mapping(self, alternatives: Iterable[Suggestion] = ()) -> Mapping:
        """The suggestion as an *unreviewed candidate* (UNCHECKED, UNREVIEWED): a reviewer
        approves it in Usagi or the store; the runner-up concepts go in the comment."""
        others = "; ".join(f"{a.concept_id} {a.concept_name} ({a.score:.2f})" for a in alternatives)
        comment = f"candidate, unreviewed: {self.evidence}" + (
            f" | alternatives: {others}" if others else ""
        )
        return Mapping(
            source_vocabulary=self.source_vocabulary,
            source_code=self.source_code,
            source_name=self.source_name,
            target_concept_id=self.concept_id,
            target_name=self.concept_name,
            target_vocabulary_id=self.vocabulary_id,
            target_domain_id=self.domain_id,
            status=MappingStatus.UNCHECKED,
            equivalence=Equivalence.UNREVIEWED,
            score=round(self.score, 4),
            author="sndskit suggest",
            comment=comment[:1000],
        )


# Below this score a suggestion is not written as a candidate (top-1 precision on the test
# mapping set: 0.86 at 0.5 vs 0.81 without a minimum — BENCHMARKS.md).
MIN_CANDIDATE_SCORE = 0.5


def candidate_mappings(
    ranked: dict[tuple[str, str, str], list[Suggestion]],
    *,
    min_score: float = MIN_CANDIDATE_SCORE,
) -> list[Mapping]:
    """One row per source code, for review: its best suggestion scoring at least
    ``min_score`` as an UNCHECKED candidate (runners-up in the comment), or — when none
    does — a row without target, so the code stays unmapped and visible.

    ``ranked`` maps ``(vocabulary, code, name)`` to the code's suggestions, best first.
    """
    if not 0.0 <= min_score <= 1.0:
        raise SndskitError(
            f"minimum score {min_score} outside 0..1", field="min_score", allowed=["0..1"]
        )
    rows = []
    for (vocabulary, code, name), suggestions in ranked.items():
        kept = [s for s in suggestions if s.score >= min_score]
        if kept:
            rows.append(kept[0].as_mapping(kept[1:]))
            continue
        best = f" (best {suggestions[0].score:.2f})" if suggestions else ""
        rows.append(
            Mapping(
                source_vocabulary=vocabulary,
                source_code=code,
                source_name=name,
                status=MappingStatus.UNCHECKED,
                author="sndskit suggest",
                comment=f"no candidate scored {min_score:.2f} or more{best}",
            )
        )
    return rows


def _dotted(code: str) -> str:
    return code if len(code) <= 3 or "." in code else f"{code[:3]}.{code[3:]}"


class Suggester:
    """Suggestion engine for one source vocabulary over one OMOP vocabulary database."""

    def __init__(
        self,
        vocab: duckdb.DuckDBPyConnection,
        vocabulary: str,
        *,
        store: Path | None = None,
        approved: Iterable[Mapping] = (),
        domains: Iterable[str] | None = None,
    ) -> None:
        self.vocab = vocab
        self.vocabulary = vocabulary.upper()
        self.domains = list(domains or TARGET_DOMAINS.get(self.vocabulary, ()))
        self._load_candidates()
        self._load_source(store)
        self.approved: dict[str, list[int]] = {}
        for m in approved:
            if m.source_vocabulary == self.vocabulary and m.is_mapped:
                self.approved.setdefault(m.source_code, []).append(m.target_concept_id)

    def _load_candidates(self) -> None:
        domain_filter = "AND list_contains(?, c.domain_id)" if self.domains else ""
        params = [self.domains] if self.domains else []
        rows = self.vocab.execute(
            "SELECT c.concept_id, c.concept_name, c.vocabulary_id, c.domain_id FROM concept c "
            f"WHERE c.standard_concept = 'S' AND c.invalid_reason IS NULL {domain_filter} "
            "ORDER BY c.concept_id",
            params,
        ).fetchall()
        self.concepts = {r[0]: r[1:] for r in rows}
        ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        texts = [r[1] for r in rows]
        owners = list(range(len(rows)))
        synonyms = self.vocab.execute(
            "SELECT s.concept_id, s.concept_synonym_name FROM concept_synonym s "
            "WHERE s.concept_id IN (SELECT unnest(?))",
            [ids.tolist()],
        ).fetchall()
        position = {int(i): k for k, i in enumerate(ids)}
        for concept_id, name in synonyms:
            texts.append(name)
            owners.append(position[concept_id])
        self.candidate_ids = ids
        self.text_owner = np.asarray(owners, dtype=np.int64)
        self.index = NgramIndex(texts)

    def _load_source(self, store: Path | None) -> None:
        con = connect_store(Path(store) if store else store_path())
        try:
            rows = con.execute(
                "SELECT code, label, parent FROM concepts WHERE vocabulary = ?", [self.vocabulary]
            ).fetchall()
            self.labels = {c: label for c, label, _ in rows}
            self.parents = {c: p for c, _, p in rows if p}
            self.synonyms: dict[str, list[tuple[str, str]]] = {}
            for code, text, kind in con.execute(
                "SELECT code, text, kind FROM synonyms WHERE vocabulary = ? AND kind <> 'alt_code'",
                [self.vocabulary],
            ).fetchall():
                self.synonyms.setdefault(code, []).append((kind, text))
            self.atc: dict[str, set[str]] = {}
            if self.vocabulary in DRUG_VOCABULARIES:
                for code, atc in con.execute(
                    "SELECT code_1, code_2 FROM relations WHERE vocabulary_1 = ? "
                    "AND vocabulary_2 = 'ATC'",
                    [self.vocabulary],
                ).fetchall():
                    self.atc.setdefault(code, set()).add(atc)
        finally:
            con.close()

    # -- signals ---------------------------------------------------------------------------
    def _queries(self, code: str) -> list[tuple[str, float, str]]:
        queries = [
            (t, WEIGHT_ENGLISH, "English label")
            for k, t in self.synonyms.get(code, ())
            if k == "english"
        ]
        if not queries:
            node = self.parents.get(code)
            while node and not queries:
                queries = [
                    (t, WEIGHT_ANCESTOR_ENGLISH, f"English label of {node}")
                    for k, t in self.synonyms.get(node, ())
                    if k == "english"
                ]
                node = self.parents.get(node)
        french = [self.labels.get(code, "")] + [
            t for k, t in self.synonyms.get(code, ()) if k not in ("english", "abbreviation")
        ]
        queries += [(t, WEIGHT_FRENCH, "French label") for t in dict.fromkeys(french) if t]
        return queries

    def _bridges(self, code: str) -> dict[int, tuple[float, str]]:
        found: dict[int, tuple[float, str]] = {}
        if self.vocabulary in ("CIM10", "ALD"):
            tries = [(_dotted(code), 1.0)]
            if len(code) > 4:
                tries.append((_dotted(code[:4]), 0.9))
            for dotted, score in tries:
                rows = self.vocab.execute(
                    "SELECT c.vocabulary_id, r.concept_id_2 FROM concept c "
                    "JOIN concept_relationship r ON r.concept_id_1 = c.concept_id "
                    "WHERE list_contains(?, c.vocabulary_id) AND c.concept_code = ? "
                    "AND r.relationship_id = 'Maps to' AND r.invalid_reason IS NULL",
                    [list(CODE_VOCABULARIES), dotted],
                ).fetchall()
                for vocabulary_id, target in rows:
                    found.setdefault(target, (score, f"{vocabulary_id} {dotted} Maps to"))
                if found:
                    break
        atc_codes = self.atc.get(code, set()) | ({code} if self.vocabulary == "ATC" else set())
        if atc_codes:
            rows = self.vocab.execute(
                "SELECT a.concept_code, d.concept_id FROM concept a "
                "JOIN concept_ancestor x ON x.ancestor_concept_id = a.concept_id "
                "JOIN concept d ON d.concept_id = x.descendant_concept_id "
                "WHERE a.vocabulary_id = 'ATC' AND list_contains(?, a.concept_code) "
                "AND d.concept_class_id = 'Ingredient' AND d.standard_concept = 'S' "
                "UNION SELECT a.concept_code, r.concept_id_2 FROM concept a "
                "JOIN concept_relationship r ON r.concept_id_1 = a.concept_id "
                "WHERE a.vocabulary_id = 'ATC' AND list_contains(?, a.concept_code) "
                "AND r.relationship_id = 'ATC - RxNorm' AND r.invalid_reason IS NULL",
                [sorted(atc_codes), sorted(atc_codes)],
            ).fetchall()
            for atc, target in rows:
                found.setdefault(target, (0.9, f"ATC {atc} → ingredient"))
        return found

    def _hierarchy(self, code: str) -> tuple[set[int], str]:
        node = self.parents.get(code)
        while node:
            targets = self.approved.get(node)
            if targets:
                rows = self.vocab.execute(
                    "SELECT descendant_concept_id FROM concept_ancestor "
                    "WHERE ancestor_concept_id IN (SELECT unnest(?))",
                    [targets],
                ).fetchall()
                return {r[0] for r in rows} | set(targets), f"below the target of {node}"
            node = self.parents.get(node)
        return set(), ""

    # -- entry point -----------------------------------------------------------------------
    def suggest(self, code: str, top: int = 5) -> list[Suggestion]:
        """Top ``top`` standard concepts for one source code, best first."""
        evidence: dict[int, list[str]] = {}
        text_best = np.zeros(len(self.candidate_ids), dtype=np.float64)
        text_why = np.full(len(self.candidate_ids), -1, dtype=np.int64)
        queries = self._queries(code)
        for q, (text, weight, _) in enumerate(queries):
            per_text = self.index.scores(text) * weight
            per_concept = np.zeros(len(self.candidate_ids), dtype=np.float64)
            np.maximum.at(per_concept, self.text_owner, per_text)
            better = per_concept > text_best
            text_best[better] = per_concept[better]
            text_why[better] = q
        combined = text_best.copy()
        index_of = self._index_of()
        for concept_id, (score, why) in self._bridges(code).items():
            k = index_of.get(concept_id)
            if k is not None:
                combined[k] = 1 - (1 - combined[k]) * (1 - score)
                evidence.setdefault(k, []).append(why)
        below, why_below = self._hierarchy(code)
        for concept_id in below:
            k = index_of.get(concept_id)
            if k is not None:
                combined[k] = 1 - (1 - combined[k]) * (1 - HIERARCHY_PRIOR)
                evidence.setdefault(k, []).append(why_below)
        count = min(top, int((combined > 0).sum()))
        if count == 0:
            return []
        best = np.argpartition(-combined, count - 1)[:count]
        best = best[np.lexsort((self.candidate_ids[best], -combined[best]))]
        result = []
        for rank, k in enumerate(best, start=1):
            concept_id = int(self.candidate_ids[k])
            name, vocabulary_id, domain_id = self.concepts[concept_id]
            reasons = list(evidence.get(int(k), []))
            if text_why[k] >= 0:
                text, _, label = queries[int(text_why[k])]
                reasons.append(f"{label} “{text}” ~ {text_best[k]:.2f}")
            result.append(
                Suggestion(
                    source_vocabulary=self.vocabulary,
                    source_code=code,
                    source_name=self.labels.get(code, ""),
                    rank=rank,
                    concept_id=concept_id,
                    concept_name=name,
                    vocabulary_id=vocabulary_id,
                    domain_id=domain_id,
                    score=round(float(combined[k]), 4),
                    evidence="; ".join(reasons),
                )
            )
        return result

    def _index_of(self) -> dict[int, int]:
        if not hasattr(self, "_positions"):
            self._positions = {int(i): k for k, i in enumerate(self.candidate_ids)}
        return self._positions


def evaluate_suggestions(
    suggester: Suggester, approved: Iterable[Mapping], top: tuple[int, ...] = (1, 5)
) -> dict:
    """Top-k accuracy against approved mappings held out one code at a time: the code's own
    mappings are hidden from the hierarchy prior; a hit is any approved target in the top k."""
    gold: dict[str, set[int]] = {}
    for m in approved:
        usable = m.source_vocabulary == suggester.vocabulary and m.is_mapped
        if usable and m.status == MappingStatus.APPROVED:
            gold.setdefault(m.source_code, set()).add(m.target_concept_id)
    hits = dict.fromkeys(top, 0)
    reachable = 0
    for code, targets in sorted(gold.items()):
        hidden = suggester.approved.pop(code, None)
        try:
            ranked = [s.concept_id for s in suggester.suggest(code, top=max(top))]
        finally:
            if hidden is not None:
                suggester.approved[code] = hidden
        reachable += any(t in suggester._index_of() for t in targets)
        for k in top:
            hits[k] += any(t in targets for t in ranked[:k])
    n = len(gold)
    return {
        "vocabulary": suggester.vocabulary,
        "codes": n,
        "candidates": len(suggester.candidate_ids),
        "reachable": reachable,
        **{f"top{k}": (hits[k] / n if n else None) for k in top},
        **{f"top{k}_hits": hits[k] for k in top},
    }


__all__ = [
    "MIN_CANDIDATE_SCORE",
    "NgramIndex",
    "Suggester",
    "Suggestion",
    "candidate_mappings",
    "evaluate_suggestions",
    "ngrams",
]
