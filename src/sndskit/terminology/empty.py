"""Why a search found nothing, and what to try next — in French and in English.

An empty table never stands alone: :func:`explain_empty_search` tells apart a word the
store does not know (with the closest known words), matches that exist only outside the
requested vocabularies or filters, and words that never occur together.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz, process

from sndskit.terminology.codes import parse_code_pattern
from sndskit.terminology.search import check_vocabularies, search_concepts, search_index
from sndskit.text import words

Reason = Literal["unknown_words", "other_vocabularies", "filters", "not_together", "no_code"]


class EmptyResult(BaseModel):
    """The reason of an empty result and the next step, in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Reason
    message_fr: str
    message_en: str
    suggestion_fr: str
    suggestion_en: str

    def render(self) -> str:
        return f"{self.message_fr} — {self.suggestion_fr}\n{self.message_en} — {self.suggestion_en}"


def _per_vocabulary(hits) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for hit in hits:
        counts[hit.vocabulary] = counts.get(hit.vocabulary, 0) + 1
    return sorted(counts.items(), key=lambda x: -x[1])


def explain_empty_search(
    query: str,
    *,
    vocabularies: list[str] | None = None,
    levels: list[int] | None = None,
    valid_at: date | None = None,
    store: Path | None = None,
) -> EmptyResult:
    """Why :func:`~sndskit.terminology.search.search_concepts` returned nothing for these
    arguments, with a next step."""
    vocabularies = check_vocabularies(vocabularies)
    where = "/".join(vocabularies) if vocabularies else "any vocabulary"
    if parse_code_pattern(query.strip()) is None:
        index = search_index(store)
        unknown = [w for w in words(query, drop_stopwords=True) if not index.lexicon.candidates(w)]
        if unknown:
            close = [
                m[0]
                for w in unknown
                for m in process.extract(
                    w, index.lexicon.words, scorer=fuzz.ratio, limit=3, score_cutoff=75
                )
            ]
            shown = ", ".join(close) or "—"
            return EmptyResult(
                reason="unknown_words",
                message_fr=f"mot(s) inconnu(s) des terminologies : {', '.join(unknown)}",
                message_en=f"word(s) found in no terminology: {', '.join(unknown)}",
                suggestion_fr=f"vérifiez l'orthographe (mots proches : {shown})",
                suggestion_en=f"check the spelling (close words: {shown})",
            )
    if vocabularies:
        elsewhere = search_concepts(query, levels=levels, valid_at=valid_at, limit=50, store=store)
        if elsewhere:
            counts = _per_vocabulary(elsewhere)
            listed = ", ".join(f"{v} ({n})" for v, n in counts)
            first = counts[0][0]
            return EmptyResult(
                reason="other_vocabularies",
                message_fr=f"rien dans {where}, mais des résultats dans : {listed}",
                message_en=f"nothing in {where}, but matches in: {listed}",
                suggestion_fr=f"essayez --vocab {first} ou retirez --vocab",
                suggestion_en=f"try --vocab {first} or drop --vocab",
            )
    if levels or valid_at:
        relaxed = search_concepts(query, vocabularies=vocabularies, limit=5, store=store)
        if relaxed:
            return EmptyResult(
                reason="filters",
                message_fr="des codes correspondent, mais pas avec les filtres --level/--valid-at",
                message_en="codes match, but not with the --level/--valid-at filters",
                suggestion_fr="retirez ou élargissez --level / --valid-at",
                suggestion_en="drop or widen --level / --valid-at",
            )
    if parse_code_pattern(query.strip()) is not None:
        return EmptyResult(
            reason="no_code",
            message_fr=f"aucun code de {where} ne correspond au motif {query!r}",
            message_en=f"no code of {where} matches the pattern {query!r}",
            suggestion_fr="vérifiez la forme du code (E11, E11*, E10-E14, A10B%)",
            suggestion_en="check the code form (E11, E11*, E10-E14, A10B%)",
        )
    return EmptyResult(
        reason="not_together",
        message_fr=f"aucun libellé de {where} ne réunit ces mots",
        message_en=f"no label of {where} holds these words together",
        suggestion_fr="utilisez moins de mots ou un synonyme (ex. « avc », « diabète »)",
        suggestion_en="use fewer words or a synonym (e.g. 'avc', 'diabète')",
    )
