"""Memory-resident search index: word postings and ranking arrays, read once per process.

The store keeps, per normalised word, the ids of the texts (labels, synonyms) holding it
(``search_vocab``), and per text its concept, kind and length (``search_texts``). Ranking a
query is then array arithmetic; only the final top hits are read back from DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sndskit.terminology.model import CODE_FORMS
from sndskit.text import Lexicon

# Classifications first, then substances, products, and boxes/units last on equal text match.
VOCAB_PRIOR = {"CIP13": -2.0, "CIP7": -2.0, "UCD": -1.0, "CIS": -1.0, "SUBSTANCE": 1.0}
# A label counts fully; an abbreviation slightly more (it was curated for this use), an
# English label less (French first), any other synonym a little less than a label.
# Curated lay terms weigh like abbreviations: both were written for exactly this use.
KIND_FACTOR = {"label": 1.0, "abbreviation": 1.05, "lay_term": 1.05, "english": 0.85}
# Structure (CCAM/NABM/LPP tree nodes, WHO blocks) never appears in data, and a CCAM
# "Supplément pour …" is only billed with the act it supplements (CCAM, Livre II): at equal
# words, the acts and codes themselves come first.
STRUCTURE_PENALTY = 5.0
# A concept whose own label holds every query word beats one found by a synonym only.
LABEL_BONUS = 2.0
OTHER_SYNONYM_FACTOR = 0.95
_NO_DATE = np.iinfo(np.int32).min


def _secondary_concepts(concepts: pa.Table) -> np.ndarray:
    """Structure nodes (not in a code form SNDS tables record) and CCAM supplements, as a
    boolean array (vectorised: the store holds ≈ 145,000 concepts)."""
    vocabulary, code = concepts.column("vocabulary"), concepts.column("code")
    out = np.zeros(concepts.num_rows, dtype=bool)
    for name, form in CODE_FORMS.items():
        wrong = pc.and_(pc.equal(vocabulary, name), pc.invert(pc.match_substring_regex(code, form)))
        out |= wrong.to_numpy(zero_copy_only=False)
    supplement = pc.and_(
        pc.equal(vocabulary, "CCAM"), pc.starts_with(concepts.column("label"), "Supplément")
    )
    return out | supplement.to_numpy(zero_copy_only=False)


@dataclass(frozen=True)
class RankedTexts:
    """Best text per concept, ranked: parallel arrays."""

    concept_ids: np.ndarray
    text_ids: np.ndarray
    scores: np.ndarray
    partial: np.ndarray  # True where the text misses one query word


def _days(values: np.ndarray, missing: int) -> np.ndarray:
    out = np.full(len(values), missing, dtype=np.int64)
    mask = ~np.isnat(values)
    out[mask] = values[mask].astype("datetime64[D]").astype(np.int64)
    return out


class SearchIndex:
    """Postings and per-text / per-concept arrays of one store."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        vocab = con.sql(
            "SELECT word, stem, text_ids FROM search_vocab ORDER BY word"
        ).to_arrow_table()
        words = vocab.column("word").to_pylist()
        self.lexicon = Lexicon(words, vocab.column("stem").to_pylist())
        postings = vocab.column("text_ids").combine_chunks()
        self._offsets = postings.offsets.to_numpy()
        self._values = postings.values.to_numpy()
        self._word_row = {word: i for i, word in enumerate(words)}

        texts = con.sql(
            "SELECT concept_id, kind, text, n_words FROM search_texts ORDER BY text_id"
        ).to_arrow_table()
        self.texts = texts.select(["kind", "text"])
        self.text_concept = texts.column("concept_id").to_numpy()
        kinds = texts.column("kind").to_pylist()
        factors = {k: KIND_FACTOR.get(k, OTHER_SYNONYM_FACTOR) for k in set(kinds)}
        self.text_factor = np.array([factors[k] for k in kinds], dtype=np.float64)
        self.text_words = texts.column("n_words").to_numpy().astype(np.float64)

        concepts = con.sql(
            "SELECT vocabulary, code, label, parent, level, valid_from, valid_to, parent_id "
            "FROM concepts ORDER BY concept_id"
        ).to_arrow_table()
        self.concepts = concepts.select(
            ["vocabulary", "code", "label", "parent", "level", "valid_from", "valid_to"]
        )
        vocabularies = concepts.column("vocabulary").to_pylist()
        self.vocabulary_names = sorted(set(vocabularies))
        position = {v: i for i, v in enumerate(self.vocabulary_names)}
        self.concept_vocabulary = np.array([position[v] for v in vocabularies], dtype=np.int16)
        self.concept_prior = np.array([VOCAB_PRIOR.get(v, 0.0) for v in self.vocabulary_names])[
            self.concept_vocabulary
        ]
        self.concept_structure = _secondary_concepts(concepts)
        # words of each concept's label: at equal score the most general (shortest) first
        self.label_words = np.full(len(vocabularies), 99.0)
        self.text_is_label = np.array([k == "label" for k in kinds], dtype=bool)
        is_label = self.text_is_label
        self.label_words[self.text_concept[is_label]] = self.text_words[is_label]
        self.concept_level = concepts.column("level").to_numpy(zero_copy_only=False)
        self.concept_level = np.nan_to_num(self.concept_level.astype(np.float64), nan=99.0)
        self.valid_from = _days(
            concepts.column("valid_from").to_numpy(zero_copy_only=False), _NO_DATE
        )
        self.valid_to = _days(
            concepts.column("valid_to").to_numpy(zero_copy_only=False), np.iinfo(np.int32).max
        )
        parent = concepts.column("parent_id").to_numpy(zero_copy_only=False)
        self.parent_id = np.nan_to_num(parent.astype(np.float64), nan=-1).astype(np.int64)
        self._children: tuple[np.ndarray, np.ndarray] | None = None
        self._ids: dict[tuple[str, str], int] | None = None

        relations = con.sql(
            "SELECT concept_id_2, concept_id_1, relation FROM relations ORDER BY concept_id_2"
        ).to_arrow_table()
        self._relation_to = relations.column("concept_id_2").to_numpy()
        self._relation_from = relations.column("concept_id_1").to_numpy()
        self._relation_name = relations.column("relation").to_pylist()

    def concept_id(self, vocabulary: str, code: str) -> int | None:
        """Id of a concept by vocabulary and exact code (the lookup table is built once)."""
        if self._ids is None:
            keys = zip(
                self.concepts.column("vocabulary").to_pylist(),
                self.concepts.column("code").to_pylist(),
                strict=True,
            )
            self._ids = {key: i for i, key in enumerate(keys)}
        return self._ids.get((vocabulary, code))

    def concept_rows(self, concept_ids: list[int]) -> list[dict]:
        return self.concepts.take(pa.array(concept_ids, type=pa.int64())).to_pylist()

    def text_rows(self, text_ids: list[int]) -> list[dict]:
        return self.texts.take(pa.array(text_ids, type=pa.int64())).to_pylist()

    def linked_to(self, concept_id: int) -> list[tuple[int, str]]:
        """Concepts with a relation pointing at ``concept_id``: (their id, relation)."""
        lo = np.searchsorted(self._relation_to, concept_id, side="left")
        hi = np.searchsorted(self._relation_to, concept_id, side="right")
        return [(int(self._relation_from[i]), self._relation_name[i]) for i in range(lo, hi)]

    # -- ranking --------------------------------------------------------------------------
    def _postings(self, word: str) -> np.ndarray:
        row = self._word_row[word]
        return self._values[self._offsets[row] : self._offsets[row + 1]]

    def _best_per_text(self, candidates: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Texts holding any candidate word, each with its best weight."""
        if not candidates:
            return np.empty(0, dtype=np.int64), np.empty(0)
        ids = np.concatenate([self._postings(w) for w in candidates])
        weights = np.concatenate(
            [np.full(len(self._postings(w)), wt) for w, wt in candidates.items()]
        )
        order = np.lexsort((-weights, ids))
        ids, weights = ids[order], weights[order]
        first = np.ones(len(ids), dtype=bool)
        first[1:] = ids[1:] != ids[:-1]
        return ids[first], weights[first]

    def concept_mask(
        self, vocabularies: list[str] | None, levels: list[int] | None, valid_at: date | None
    ) -> np.ndarray | None:
        """Which concepts pass the filters (None = all)."""
        if not (vocabularies or levels or valid_at):
            return None
        mask = np.ones(len(self.concept_vocabulary), dtype=bool)
        if vocabularies:
            wanted = [
                self.vocabulary_names.index(v) for v in vocabularies if v in self.vocabulary_names
            ]
            mask &= np.isin(self.concept_vocabulary, wanted)
        if levels:
            mask &= np.isin(self.concept_level, levels)
        if valid_at:
            day = (np.datetime64(valid_at, "D") - np.datetime64(0, "D")).astype(np.int64)
            mask &= (self.valid_from <= day) & (self.valid_to >= day)
        return mask

    def rank(
        self, per_word: list[dict[str, float]], *, mask: np.ndarray | None, allow_partial: bool
    ) -> RankedTexts:
        """Concepts whose label or one synonym holds every query word (or all but one)."""
        n = len(per_word)
        parts = [self._best_per_text(c) for c in per_word]
        ids = np.concatenate([p[0] for p in parts])
        weights = np.concatenate([p[1] for p in parts])
        texts, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=weights)
        needed = n - 1 if allow_partial and n >= 2 else n
        keep = counts >= needed
        texts, counts, sums = texts[keep], counts[keep], sums[keep]
        concepts = self.text_concept[texts]
        if mask is not None:
            allowed = mask[concepts]
            texts, counts, sums, concepts = (
                texts[allowed],
                counts[allowed],
                sums[allowed],
                concepts[allowed],
            )
        in_label = np.zeros(len(self.label_words), dtype=bool)
        in_label[concepts[self.text_is_label[texts] & (counts >= n)]] = True
        scores = (
            100.0 * sums / n * self.text_factor[texts]
            + LABEL_BONUS * in_label[concepts]
            + 15.0 * counts / np.maximum(self.text_words[texts], n)
            + self.concept_prior[concepts]
            - STRUCTURE_PENALTY * self.concept_structure[concepts]
            - 20.0 * (counts < n)  # partial matches rank after every full match
        )
        order = np.argsort(-scores, kind="stable")
        concepts_sorted = concepts[order]
        _, first = np.unique(concepts_sorted, return_index=True)
        best = order[first]
        chosen = concepts[best]
        ranking = np.lexsort(
            (chosen, self.label_words[chosen], self.concept_level[chosen], -scores[best])
        )
        best = best[ranking]
        return RankedTexts(concepts[best], texts[best], scores[best], counts[best] < n)

    # -- hierarchy ------------------------------------------------------------------------
    def descendants(self, concept_id: int, max_depth: int = 8) -> list[tuple[int, int]]:
        """``(concept id, depth)`` of every concept below ``concept_id``, breadth first."""
        if self._children is None:
            order = np.argsort(self.parent_id, kind="stable")
            self._children = (order, self.parent_id[order])
        order, parents = self._children
        out, frontier = [], np.array([concept_id])
        for depth in range(1, max_depth + 1):
            lo = np.searchsorted(parents, frontier, side="left")
            hi = np.searchsorted(parents, frontier, side="right")
            children = (
                np.concatenate([order[a:b] for a, b in zip(lo, hi, strict=True)])
                if len(frontier)
                else np.empty(0, dtype=np.int64)
            )
            if not len(children):
                break
            out.extend((int(c), depth) for c in np.sort(children))
            frontier = children
        return out
