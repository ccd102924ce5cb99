"""Terminologies: one concept store for every SNDS vocabulary, French-aware search, hierarchy.

>>> from sndskit.terminology import search_concepts, get_descendants
>>> [h.code for h in search_concepts("avc", vocabularies=["CIM10"])][:5]   # doctest: +SKIP
['I60', 'I61', 'I62', 'I63', 'I64']
"""

from sndskit.terminology.hierarchy import get_ancestors, get_concept, get_descendants
from sndskit.terminology.model import VOCABULARIES
from sndskit.terminology.relations import follow_relations
from sndskit.terminology.search import ConceptHit, find_concepts, search_concepts
from sndskit.terminology.summary import get_related, summarise_vocabularies

__all__ = [
    "VOCABULARIES",
    "ConceptHit",
    "find_concepts",
    "follow_relations",
    "get_ancestors",
    "get_concept",
    "get_descendants",
    "get_related",
    "search_concepts",
    "summarise_vocabularies",
]
