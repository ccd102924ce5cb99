"""The SNDS layer: facts about SNDS tables written once, used by every other package.

- :mod:`sndskit.snds.facts` — keys (9 DCIR flux keys, PMSI stay keys), the missing-date
  convention, per-year table names, code columns and their physical types, return codes,
  FINESS duplicate lists;
- :mod:`sndskit.snds.schema` — the columns and types of the data at hand, and what a query
  reads;
- :mod:`sndskit.snds.identity` — the one person-identity query (pseudonym → person);
- :mod:`sndskit.snds.filters` — quality filters as typed data, presets validated;
- :mod:`sndskit.snds.sources` — the event-source registry (one module per source).
"""
