"""The SNDS catalogue: look up tables and variables, search them, find join paths.

>>> from sndskit.catalog import get_catalog
>>> catalog = get_catalog()                               # doctest: +SKIP
>>> [hop.right for hop in catalog.find_join_path("ER_PHA_F", "IR_BEN_R")]  # doctest: +SKIP
['ER_PRS_F', 'IR_BEN_R']
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz, process

from sndskit.catalog.models import JoinHop, NomenclatureInfo, TableInfo
from sndskit.catalog.names import TableName, instantiate, is_year_templated, resolve_table_name
from sndskit.catalog.synonyms import matching_synonyms
from sndskit.errors import SndskitError, UnknownNameError
from sndskit.text import WordIndex, normalise_text, words


@dataclass(frozen=True)
class FieldHit:
    """A variable found by :meth:`Catalog.search_fields`, with why it matched."""

    table: str
    product: str
    field: str
    description: str
    score: float
    matched_on: str


class _Edge(NamedTuple):
    """A foreign key seen from one side: ``columns`` here equal ``other_columns`` there."""

    target: str
    columns: tuple[str, ...]
    other_columns: tuple[str, ...]
    note: str


class Catalog:
    """In-memory catalogue built from table schemas and the nomenclature index."""

    def __init__(
        self,
        tables: Iterable[TableInfo],
        nomenclatures: Iterable[NomenclatureInfo] = (),
        *,
        is_sample: bool = False,
        source: str = "",
    ) -> None:
        self.tables: dict[str, TableInfo] = {t.name: t for t in tables}
        self.nomenclatures: dict[str, NomenclatureInfo] = {n.name: n for n in nomenclatures}
        self.is_sample = is_sample
        self.source = source
        self._by_upper = {name.upper(): name for name in self.tables}
        self._nom_by_upper = {name.upper(): name for name in self.nomenclatures}
        self._graph: dict[str, list[_Edge]] = {name: [] for name in self.tables}
        for table in self.tables.values():
            for fk in table.foreign_keys:
                self._graph[table.name].append(
                    _Edge(fk.reference_table, fk.fields, fk.reference_fields, fk.note)
                )
                self._graph[fk.reference_table].append(
                    _Edge(table.name, fk.reference_fields, fk.fields, fk.note)
                )
        self._fields = [(t, f) for t in self.tables.values() for f in t.fields]
        self._word_index = WordIndex(
            (i, [*words(f.description), *f.name.lower().split("_")])
            for i, (_, f) in enumerate(self._fields)
        )
        self._description_length = [len(words(f.description)) or 1 for _, f in self._fields]

    # -- look-ups ---------------------------------------------------------------------
    def products(self) -> list[str]:
        return sorted({t.product for t in self.tables.values()})

    def list_tables(self, product: str | None = None) -> list[TableInfo]:
        """Tables sorted by product then name; ``product`` is matched case-insensitively."""
        tables = sorted(self.tables.values(), key=lambda t: (t.product, t.name))
        if product is None:
            return tables
        wanted = normalise_text(product)
        selected = [t for t in tables if normalise_text(t.product) == wanted]
        if not selected:
            raise SndskitError(
                f"unknown product '{product}'", field="product", allowed=self.products()
            )
        return selected

    def resolve(self, name: str) -> tuple[TableInfo, TableName]:
        """Find a table by physical or template name (``T_MCO19B`` → ``T_MCOaaB``)."""
        resolved = resolve_table_name(name)
        canonical = self._by_upper.get(resolved.template.upper())
        if canonical is None:
            raise UnknownNameError("table", name, self.suggest_tables(name))
        return self.tables[canonical], resolved

    def get_table(self, name: str) -> TableInfo:
        return self.resolve(name)[0]

    def suggest_tables(self, name: str, limit: int = 5) -> list[str]:
        matches = process.extract(
            name.upper(), list(self._by_upper), scorer=fuzz.WRatio, limit=limit, score_cutoff=60
        )
        return [self._by_upper[m[0]] for m in matches]

    def get_nomenclature_info(self, name: str) -> NomenclatureInfo:
        canonical = self._nom_by_upper.get(name.strip().upper())
        if canonical is None:
            matches = process.extract(
                name.upper(), list(self._nom_by_upper), scorer=fuzz.WRatio, limit=5, score_cutoff=60
            )
            raise UnknownNameError(
                "nomenclature", name, [self._nom_by_upper[m[0]] for m in matches]
            )
        return self.nomenclatures[canonical]

    # -- search -----------------------------------------------------------------------
    def search_fields(
        self, text: str, *, limit: int = 20, product: str | None = None
    ) -> list[FieldHit]:
        """Variables whose name or description matches every word of ``text``.

        Accent- and case-insensitive, words in any order, prefixes and one typo allowed
        in words of five letters or more. Exact variable names rank first.
        """
        exact_name = "_".join(words(text)).upper()
        query = words(text, drop_stopwords=True)
        if not query:
            raise SndskitError(
                f"nothing to search for in {text!r}: give a variable name or words of its "
                "description (French function words such as 'de', 'la' are ignored)"
            )
        allowed = {t.name for t in self.list_tables(product)} if product else None
        per_word = [self._word_index.match(w) for w in query]
        matched = set.intersection(*(set(m) for m in per_word))
        hits = []
        for i, (table, field) in enumerate(self._fields):
            if allowed is not None and table.name not in allowed:
                continue
            name = field.name.upper()
            if name == exact_name:
                score, why = 100.0, "name"
            elif len(exact_name) >= 3 and name.startswith(exact_name):
                score, why = 90.0, "name prefix"
            elif i in matched:
                mean = sum(m[i] for m in per_word) / len(per_word)
                # A tighter description (fewer other words) ranks higher.
                score = 80.0 * mean + 5.0 * len(query) / self._description_length[i]
                why = "description"
            else:
                continue
            hits.append(
                FieldHit(
                    table.name, table.product, field.name, field.description, round(score, 2), why
                )
            )
        hits = self._synonym_hits(text, allowed) + hits
        best: dict[tuple[str, str], FieldHit] = {}
        for hit in hits:
            key = (hit.table, hit.field)
            if key not in best or hit.score > best[key].score:
                best[key] = hit
        return sorted(best.values(), key=lambda h: (-h.score, h.field, h.table))[:limit]

    def _synonym_hits(self, text: str, allowed: set[str] | None) -> list[FieldHit]:
        """Variables named by a curated desk word (``resources/catalog/field_synonyms.csv``)."""
        hits = []
        for synonym, score in matching_synonyms(text):
            table = self.tables.get(synonym.table)
            if table is None or (allowed is not None and table.name not in allowed):
                continue
            field = next((f for f in table.fields if f.name == synonym.field), None)
            if field is not None:
                hits.append(
                    FieldHit(
                        table.name,
                        table.product,
                        field.name,
                        field.description,
                        score,
                        f"synonym “{synonym.term}”: {synonym.note}",
                    )
                )
        return hits

    # -- joins ------------------------------------------------------------------------
    def find_join_path(self, start: str, end: str) -> list[JoinHop]:
        """Shortest path over the foreign-key graph, each hop with its join columns.

        Per-year names keep their year along the path (``T_MCO19D`` → ``T_MCO19B``).
        """
        start_table, start_name = self.resolve(start)
        end_table, end_name = self.resolve(end)
        years = {n.year for n in (start_name, end_name) if n.year is not None}
        if len(years) > 1:
            raise SndskitError(
                f"{start} and {end} belong to different years: PMSI tables of different "
                "years are not joined by key (link persons through NIR_ANO_17 instead)"
            )
        year = years.pop() if years else None
        archive = any(
            n.year is not None and not is_year_templated(n.template) for n in (start_name, end_name)
        )
        previous = self._bfs(start_table.name, end_table.name)
        if previous is None:
            raise SndskitError(f"no foreign-key path between {start} and {end}")
        hops = []
        node = end_table.name
        while node != start_table.name:
            parent, edge = previous[node]
            hops.append(
                JoinHop(
                    left=instantiate(parent, year, dcir_archive=archive),
                    right=instantiate(node, year, dcir_archive=archive),
                    left_columns=edge.columns,
                    right_columns=edge.other_columns,
                    note=edge.note,
                )
            )
            node = parent
        return hops[::-1]

    def _bfs(self, start: str, end: str) -> dict[str, tuple[str, _Edge]] | None:
        """Breadth-first search; maps each reached table to (its parent, the edge used)."""
        previous: dict[str, tuple[str, _Edge]] = {}
        seen = {start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == end:
                return previous
            # Widest key first: between two tables, the full composite key is the real join.
            for edge in sorted(self._graph[node], key=lambda e: (-len(e.columns), e.target)):
                if edge.target not in seen:
                    seen.add(edge.target)
                    previous[edge.target] = (node, edge)
                    queue.append(edge.target)
        return None
