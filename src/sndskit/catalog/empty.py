"""Why a catalogue search found no variable, and what to try next (French and English)."""

from __future__ import annotations

from rapidfuzz import fuzz, process

from sndskit.catalog.catalog import Catalog
from sndskit.terminology.empty import EmptyResult
from sndskit.text import words


def explain_empty_field_search(
    catalog: Catalog, text: str, *, product: str | None = None
) -> EmptyResult:
    """The reason :meth:`Catalog.search_fields` returned nothing, with a next step."""
    lexicon = catalog._word_index.lexicon
    unknown = [w for w in words(text, drop_stopwords=True) if not lexicon.candidates(w)]
    if unknown:
        close = [
            m[0]
            for w in unknown
            for m in process.extract(w, lexicon.words, scorer=fuzz.ratio, limit=3, score_cutoff=75)
        ]
        shown = ", ".join(close) or "—"
        return EmptyResult(
            reason="unknown_words",
            message_fr=f"mot(s) absent(s) des descriptions de variables : {', '.join(unknown)}",
            message_en=f"word(s) in no variable description: {', '.join(unknown)}",
            suggestion_fr=f"vérifiez l'orthographe (mots proches : {shown}) ou cherchez "
            "le code avec `sndskit codes search`",
            suggestion_en=f"check the spelling (close words: {shown}) or look for the code "
            "with `sndskit codes search`",
        )
    if product and catalog.search_fields(text, limit=1):
        return EmptyResult(
            reason="filters",
            message_fr=f"aucune variable dans le produit {product}, mais dans d'autres",
            message_en=f"no variable in product {product}, but some in other products",
            suggestion_fr="retirez --product",
            suggestion_en="drop --product",
        )
    return EmptyResult(
        reason="not_together",
        message_fr="aucune description de variable ne réunit tous ces mots",
        message_en="no variable description holds all these words together",
        suggestion_fr="utilisez moins de mots (ex. « date décès ») ou un nom de variable",
        suggestion_en="use fewer words (e.g. 'date décès') or a variable name",
    )
