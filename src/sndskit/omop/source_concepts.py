"""SNDS vocabularies as non-standard OMOP source concepts, with stable ids above 2,000,000,000.

OMOP reserves ``concept_id`` > 2,000,000,000 for local concepts, and ``concept_id`` is a
32-bit integer: the whole local space is 2,000,000,001 … 2,147,483,647 (147,483,647 ids).

**Id scheme** (documented in ``docs/omop.md``). An id is a function of ``(vocabulary, code)``
only, never of row order::

    candidate(v, c, k) = 2,000,000,001 + BLAKE2b-64("v␟c␟k") mod 147,483,647

A key takes ``candidate(v, c, 0)``; if that id is already held by another key it tries
``k = 1, 2, …``. Two ingredients make this collision-free *and* stable:

1. keys are placed in sorted ``(vocabulary, code)`` order, so the same key set always gives
   the same ids, whatever order the store returns rows in;
2. the **id registry** (``$SNDSKIT_HOME/omop/source_concept_ids.csv``, one line per key ever
   issued, retired codes included) is read first and its ids are kept: a code keeps its id
   across rebuilds even when new codes arrive whose candidate would have taken it, and an id
   is never reused for another code. Keep the registry under version control with the
   mappings.

A pure hash into a 32-bit space cannot be collision-free for ~150,000 SNDS codes (≈ 76
collisions expected), and no injective packing of CCAM (26⁴×1000) or CIP13 codes fits 147 M
ids, hence the probing plus registry.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from sndskit.config import sndskit_home, store_path
from sndskit.errors import SndskitError
from sndskit.io import atomic_path
from sndskit.store import connect_store
from sndskit.terminology.model import VOCABULARIES

ID_BASE = 2_000_000_000
ID_MAX = 2**31 - 1
ID_SPACE = ID_MAX - ID_BASE  # 147,483,647 ids: ID_BASE + 1 … ID_MAX
ENGLISH = 4180186  # OMOP concept "English language"
FRENCH = 4180190  # OMOP concept "French language"
DEFAULT_START, DEFAULT_END = date(1970, 1, 1), date(2099, 12, 31)
VOCABULARY_KEY = "Vocabulary"  # registry keys of the vocabulary concepts themselves

# Expected OMOP domain of each SNDS source vocabulary (the domain of its standard targets).
SOURCE_DOMAINS: dict[str, str] = {
    "CIM10": "Condition",
    "ALD": "Condition",
    "CCAM": "Procedure",
    "NABM": "Measurement",
    "LPP": "Device",
    "ATC": "Drug",
    "CIS": "Drug",
    "CIP13": "Drug",
    "CIP7": "Drug",
    "UCD": "Drug",
    "SUBSTANCE": "Drug",
    "GENERIC_GROUP": "Drug",
    "GHM": "Observation",
    "CMD": "Observation",
    "NAT": "Observation",
    "SPE": "Provider",
}
# Domains a standard target may have, per source vocabulary (first = the usual one). A target
# outside these is reported by the quality check and never suggested.
TARGET_DOMAINS: dict[str, tuple[str, ...]] = {
    "CIM10": ("Condition", "Observation", "Measurement"),
    "ALD": ("Condition", "Observation"),
    "CCAM": ("Procedure", "Measurement", "Observation"),
    "NABM": ("Measurement", "Observation"),
    "LPP": ("Device",),
    **{v: ("Drug",) for v in ("ATC", "CIS", "CIP13", "CIP7", "UCD", "SUBSTANCE", "GENERIC_GROUP")},
    "GHM": ("Observation",),
    "CMD": ("Observation",),
    "NAT": ("Observation", "Visit", "Procedure"),
    "SPE": ("Provider",),
}
# SNDS vocabularies Athena distributes (OMOP vocabulary_id there): their official concepts
# are reused instead of local ones (https://athena.ohdsi.org: "CIM10" is the French ICD-10
# modification maintained by OHDSI, "ATC" the WHO classification).
ATHENA_VOCABULARIES: dict[str, str] = {"CIM10": "CIM10", "ATC": "ATC"}
_CLASS_NAMES = {
    "SUBSTANCE": "Substance",
    "GENERIC_GROUP": "Generic grp",
    "SPE": "Specialty",
    "NAT": "Nature",
}
_SYNONYM_LANGUAGE = {"english": ENGLISH, "alt_code": None}  # others are French


def default_registry_path() -> Path:
    return sndskit_home() / "omop" / "source_concept_ids.csv"


def candidate_id(vocabulary: str, code: str, attempt: int = 0, space: int = ID_SPACE) -> int:
    """The ``attempt``-th candidate id of a key (see the module docstring).

    >>> candidate_id("CIM10", "E11") == candidate_id("CIM10", "E11")
    True
    >>> ID_BASE < candidate_id("CIM10", "E11") <= ID_MAX
    True
    """
    digest = hashlib.blake2b(f"{vocabulary}\x1f{code}\x1f{attempt}".encode(), digest_size=8)
    return ID_BASE + 1 + int.from_bytes(digest.digest(), "big") % space


def assign_ids(
    keys: Iterable[tuple[str, str]],
    registry: dict[tuple[str, str], int] | None = None,
    *,
    space: int = ID_SPACE,
) -> dict[tuple[str, str], int]:
    """Registry extended with ids for the new ``keys``: existing ids never change.

    >>> ids = assign_ids([("CIM10", "E11"), ("CIM10", "E119")])
    >>> ids == assign_ids([("CIM10", "E119"), ("CIM10", "E11")])   # order does not matter
    True
    """
    result = dict(registry or {})
    taken = {concept_id: key for key, concept_id in result.items()}
    if len(taken) != len(result):
        raise SndskitError("the id registry gives one concept_id to two codes")
    for key in sorted(set(keys) - result.keys()):
        for attempt in range(10_000):
            concept_id = candidate_id(key[0], key[1], attempt, space)
            if concept_id not in taken:
                break
        else:  # pragma: no cover - needs a nearly full id space
            raise SndskitError(f"no free concept_id for {key[0]} {key[1]}")
        result[key] = concept_id
        taken[concept_id] = key
    return result


def read_registry(path: Path) -> dict[tuple[str, str], int]:
    """Read an id registry CSV (``vocabulary,code,concept_id``); empty when absent."""
    path = Path(path)
    if not path.exists():
        return {}
    registry: dict[tuple[str, str], int] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for line, row in enumerate(reader, start=2):
            try:
                concept_id = int(row["concept_id"])
                key = (row["vocabulary"], row["code"])
            except (KeyError, TypeError, ValueError):
                raise SndskitError(
                    "malformed registry row",
                    file=path,
                    line=line,
                    field="concept_id",
                    allowed=["vocabulary,code,concept_id"],
                ) from None
            if not ID_BASE < concept_id <= ID_MAX:
                raise SndskitError(
                    f"concept_id {concept_id} outside the local range",
                    file=path,
                    line=line,
                    field="concept_id",
                    allowed=[f"{ID_BASE + 1}..{ID_MAX}"],
                )
            registry[key] = concept_id
    return registry


def write_registry(path: Path, registry: dict[tuple[str, str], int]) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["vocabulary", "code", "concept_id"])
        for (vocabulary, code), concept_id in sorted(registry.items()):
            writer.writerow([vocabulary, code, concept_id])


class SourceConcepts(BaseModel):
    """Arrow tables ready for OMOP: ``concept``, ``concept_synonym``, ``vocabulary``."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    concept: pa.Table
    concept_synonym: pa.Table
    vocabulary: pa.Table
    registry: dict[tuple[str, str], int]
    new_ids: int
    vocabularies: list[str] = []  # built here (their local concepts are replaced on install)
    reused: list[str] = []  # official Athena concepts loaded: reused, no local copy

    def ids(self) -> dict[tuple[str, str], int]:
        """``(vocabulary, code) → concept_id`` for the concepts built (not retired keys)."""
        return {
            (v, c): i
            for i, v, c in zip(
                self.concept["concept_id"].to_pylist(),
                self.concept["vocabulary_id"].to_pylist(),
                self.concept["concept_code"].to_pylist(),
                strict=True,
            )
            if v != VOCABULARY_KEY
        }


def _clean(text: str) -> str:
    """Athena files are tab-separated and unquoted: no tab or line break inside a value."""
    return " ".join(text.split()) if any(ch in text for ch in "\t\r\n") else text


def _concept_class(vocabulary: str, level: int | None) -> str:
    name = _CLASS_NAMES.get(vocabulary, vocabulary)
    return f"{name} level {level}" if level else name


def _read_store(store: Path | None, wanted: list[str]) -> tuple[list, list, dict[str, str]]:
    """Concept rows, synonyms and versions of the ``wanted`` vocabularies of the store."""
    con = connect_store(Path(store) if store else store_path())
    try:
        rows = con.execute(
            "SELECT vocabulary, code, label, level, valid_from, valid_to FROM concepts "
            "WHERE list_contains(?, vocabulary) ORDER BY vocabulary, code",
            [wanted],
        ).fetchall()
        synonyms = con.execute(
            "SELECT DISTINCT vocabulary, code, text, kind FROM synonyms "
            "WHERE list_contains(?, vocabulary) ORDER BY ALL",
            [wanted],
        ).fetchall()
        versions = dict(con.execute("SELECT vocabulary, version FROM vocabularies").fetchall())
    except duckdb.CatalogException:
        raise SndskitError(
            "the store has no terminology tables", hint="run `sndskit data import`"
        ) from None
    finally:
        con.close()
    return rows, synonyms, versions


def _concept_table(
    rows: list, present: list[str], ids: dict[tuple[str, str], int], today: date
) -> pa.Table:
    """The ``concept`` rows: one per code, plus one ``Vocabulary`` concept per vocabulary."""
    values: list[tuple] = []
    for vocabulary, code, label, level, valid_from, valid_to in rows:
        invalid = "D" if valid_to is not None and valid_to < today else None
        values.append(
            (
                ids[(vocabulary, code)],
                label or code,
                SOURCE_DOMAINS.get(vocabulary, "Observation"),
                vocabulary,
                _concept_class(vocabulary, level),
                code,
                valid_from or DEFAULT_START,
                valid_to or DEFAULT_END,
                invalid,
            )
        )
    for vocabulary in present:
        values.append(
            (
                ids[(VOCABULARY_KEY, vocabulary)],
                VOCABULARIES[vocabulary],
                "Metadata",
                VOCABULARY_KEY,
                "Vocabulary",
                vocabulary,
                DEFAULT_START,
                DEFAULT_END,
                None,
            )
        )
    columns = list(zip(*values, strict=True)) if values else [[] for _ in range(9)]
    concept_id, name, domain, vocab, klass, code, start, end, invalid = columns
    return pa.table(
        {
            "concept_id": pa.array(concept_id, pa.int32()),
            "concept_name": pa.array([_clean(n)[:255] for n in name], pa.string()),
            "domain_id": pa.array(domain, pa.string()),
            "vocabulary_id": pa.array(vocab, pa.string()),
            "concept_class_id": pa.array([k[:20] for k in klass], pa.string()),
            "standard_concept": pa.array([None] * len(concept_id), pa.string()),
            "concept_code": pa.array([c[:50] for c in code], pa.string()),
            "valid_start_date": pa.array(start, pa.date32()),
            "valid_end_date": pa.array(end, pa.date32()),
            "invalid_reason": pa.array(invalid, pa.string()),
        }
    )


def _synonym_table(rows: list, synonyms: list, ids: dict[tuple[str, str], int]) -> pa.Table:
    """French label of each concept, then its store synonyms (English ones flagged)."""
    labels = {(r[0], r[1]): r[2] or r[1] for r in rows}
    synonym_rows: dict[tuple[int, str], int] = {}
    for key, label in labels.items():
        synonym_rows.setdefault((ids[key], _clean(label)[:1000]), FRENCH)
    for vocabulary, code, text, kind in synonyms:
        language = _SYNONYM_LANGUAGE.get(kind, FRENCH)
        if language is None or (vocabulary, code) not in labels or not text:
            continue
        synonym_rows.setdefault((ids[(vocabulary, code)], _clean(text)[:1000]), language)
    return pa.table(
        {
            "concept_id": pa.array([k[0] for k in synonym_rows], pa.int32()),
            "concept_synonym_name": pa.array([k[1] for k in synonym_rows], pa.string()),
            "language_concept_id": pa.array(list(synonym_rows.values()), pa.int32()),
        }
    )


def build_source_concepts(
    *,
    store: Path | None = None,
    registry: dict[tuple[str, str], int] | None = None,
    vocabularies: Iterable[str] | None = None,
    as_of: date | None = None,
    official: Iterable[str] = (),
) -> SourceConcepts:
    """SNDS concepts of the terminology store as OMOP source concepts (non-standard).

    Vocabularies in ``official`` (those whose Athena concepts are loaded, see
    :func:`official_vocabularies`) are not built: Athena's concepts are reused, never
    duplicated. ``SourceConcepts.reused`` lists them.
    """
    requested = sorted(set(vocabularies or VOCABULARIES) & set(VOCABULARIES))
    reused = sorted(set(requested) & set(official))
    wanted = [v for v in requested if v not in reused]
    rows, synonyms, versions = _read_store(store, wanted) if wanted else ([], [], {})
    present = sorted({r[0] for r in rows})
    keys = [(r[0], r[1]) for r in rows] + [(VOCABULARY_KEY, v) for v in present]
    before = len(registry or {})
    ids = assign_ids(keys, registry)
    vocabulary_table = pa.table(
        {
            "vocabulary_id": pa.array(present, pa.string()),
            "vocabulary_name": pa.array([VOCABULARIES[v] for v in present], pa.string()),
            "vocabulary_reference": pa.array(
                ["sndskit (SNDS reference data)"] * len(present), pa.string()
            ),
            "vocabulary_version": pa.array([versions.get(v) or "" for v in present], pa.string()),
            "vocabulary_concept_id": pa.array(
                [ids[(VOCABULARY_KEY, v)] for v in present], pa.int32()
            ),
        }
    )
    return SourceConcepts(
        concept=_concept_table(rows, present, ids, as_of or date.today()),
        concept_synonym=_synonym_table(rows, synonyms, ids),
        vocabulary=vocabulary_table,
        registry=ids,
        new_ids=len(ids) - before,
        vocabularies=wanted,
        reused=reused,
    )


def official_vocabularies(con: duckdb.DuckDBPyConnection) -> list[str]:
    """SNDS vocabularies whose official Athena concepts (ids < 2e9) are loaded in ``con``."""
    rows = con.execute(
        f"SELECT DISTINCT vocabulary_id FROM concept WHERE concept_id < {ID_BASE} "
        "AND list_contains(?, vocabulary_id)",
        [sorted(set(ATHENA_VOCABULARIES.values()))],
    ).fetchall()
    loaded = {r[0] for r in rows}
    return sorted(v for v, athena in ATHENA_VOCABULARIES.items() if athena in loaded)


def athena_code_forms(vocabulary: str, code: str) -> list[str]:
    """The forms a SNDS code may take in Athena (ICD-10 codes are dotted there).

    >>> athena_code_forms("CIM10", "I489"), athena_code_forms("ATC", "B01AF02")
    (['I489', 'I48.9'], ['B01AF02'])
    """
    if vocabulary == "CIM10" and len(code) > 3 and "." not in code:
        return [code, f"{code[:3]}.{code[3:]}"]
    return [code]


class OmopConcept(BaseModel):
    """The OMOP concept of one SNDS code: official (Athena) or local (id > 2e9)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concept_id: int
    concept_name: str
    vocabulary_id: str
    concept_code: str
    domain_id: str
    concept_class_id: str
    standard_concept: str | None
    invalid_reason: str | None
    local: bool


def find_omop_concepts(
    con: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], OmopConcept]:
    """``(vocabulary, code) → OmopConcept`` for the keys the vocabulary database knows;
    an official Athena concept is preferred to a local one."""
    wanted = [
        (v, c, ATHENA_VOCABULARIES.get(v, v), form)
        for v, c in keys
        for form in athena_code_forms(v, c)
    ]
    if not wanted:
        return {}
    columns = [list(column) for column in zip(*wanted, strict=True)]
    con.register("_wanted", pa.table(dict(zip(("v", "c", "athena", "form"), columns, strict=True))))
    try:
        rows = con.execute(
            "SELECT w.v, w.c, k.concept_id, k.concept_name, k.vocabulary_id, k.concept_code, "
            "k.domain_id, k.concept_class_id, k.standard_concept, k.invalid_reason "
            "FROM _wanted w JOIN concept k ON "
            f"(k.concept_id < {ID_BASE} AND k.vocabulary_id = w.athena AND k.concept_code = w.form)"
            f" OR (k.concept_id > {ID_BASE} AND k.vocabulary_id = w.v AND k.concept_code = w.c) "
            "ORDER BY k.concept_id > 2000000000, k.concept_id"
        ).fetchall()
    finally:
        con.unregister("_wanted")
    found: dict[tuple[str, str], OmopConcept] = {}
    for v, c, concept_id, name, vocabulary_id, code, domain, klass, standard, invalid in rows:
        found.setdefault(
            (v, c),
            OmopConcept(
                concept_id=concept_id,
                concept_name=name,
                vocabulary_id=vocabulary_id,
                concept_code=code,
                domain_id=domain,
                concept_class_id=klass,
                standard_concept=standard,
                invalid_reason=invalid,
                local=concept_id > ID_BASE,
            ),
        )
    return found


def source_concept_ids_all(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """``(vocabulary, SNDS code) → concept_id`` of every source concept a mapping can start
    from: the local ones (ids > 2e9) and, for the vocabularies Athena has, its official
    concepts (CIM10 codes undotted), which win over a local copy."""
    rows = con.execute(
        f"SELECT vocabulary_id, concept_code, concept_id FROM concept "
        f"WHERE concept_id > {ID_BASE} AND vocabulary_id <> '{VOCABULARY_KEY}'"
    ).fetchall()
    ids = {(v, c): i for v, c, i in rows}
    athena = {a: v for v, a in ATHENA_VOCABULARIES.items()}
    official = con.execute(
        f"SELECT vocabulary_id, concept_code, concept_id FROM concept "
        f"WHERE concept_id < {ID_BASE} AND list_contains(?, vocabulary_id) ORDER BY concept_id",
        [sorted(athena)],
    ).fetchall()
    for vocabulary_id, code, concept_id in official:
        ids[(athena[vocabulary_id], code.replace(".", ""))] = concept_id
    return ids


def install_source_concepts(db: Path, concepts: SourceConcepts) -> None:
    """Install ``concepts`` in a vocabulary database, vocabulary by vocabulary: the local
    concepts (ids > 2e9) of the vocabularies built *or reused from Athena* are replaced;
    those of every other vocabulary are kept (runs are incremental)."""
    if not Path(db).exists():
        raise SndskitError(
            "no OMOP vocabulary database", file=db, hint="run `sndskit omop vocab load DIR` first"
        )
    replaced = sorted({*concepts.vocabularies, *concepts.reused})
    con = duckdb.connect(str(db))
    try:
        con.execute("BEGIN")
        local = (
            f"concept_id > {ID_BASE} AND (list_contains(?, vocabulary_id) OR "
            f"(vocabulary_id = '{VOCABULARY_KEY}' AND list_contains(?, concept_code)))"
        )
        con.execute(
            f"DELETE FROM concept_synonym WHERE concept_id IN "
            f"(SELECT concept_id FROM concept WHERE {local})",
            [replaced, replaced],
        )
        con.execute(f"DELETE FROM concept WHERE {local}", [replaced, replaced])
        con.execute(
            f"DELETE FROM vocabulary WHERE vocabulary_concept_id > {ID_BASE} "
            "AND list_contains(?, vocabulary_id)",
            [replaced],
        )
        for table in ("concept", "concept_synonym", "vocabulary"):
            con.register("_rows", getattr(concepts, table))
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
            con.unregister("_rows")
        con.execute("COMMIT")
    finally:
        con.close()


def export_athena(concepts: SourceConcepts, out_dir: Path) -> list[Path]:
    """Write ``CONCEPT.csv``, ``CONCEPT_SYNONYM.csv``, ``VOCABULARY.csv`` Athena-style
    (tab-separated, unquoted, dates ``YYYYMMDD``), each file atomically."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    written = []
    try:
        for table in ("concept", "concept_synonym", "vocabulary"):
            con.register("_rows", getattr(concepts, table))
            target = out_dir / f"{table.upper()}.csv"
            with atomic_path(target) as tmp:
                con.execute(
                    f"COPY (SELECT * FROM _rows) TO '{tmp}' "
                    "(HEADER, DELIMITER '\t', QUOTE '', ESCAPE '', DATEFORMAT '%Y%m%d')"
                )
            con.unregister("_rows")
            written.append(target)
    finally:
        con.close()
    return written


__all__ = [
    "ATHENA_VOCABULARIES",
    "ID_BASE",
    "ID_MAX",
    "SOURCE_DOMAINS",
    "TARGET_DOMAINS",
    "SourceConcepts",
    "assign_ids",
    "build_source_concepts",
    "candidate_id",
    "default_registry_path",
    "export_athena",
    "find_omop_concepts",
    "install_source_concepts",
    "official_vocabularies",
    "read_registry",
    "source_concept_ids_all",
    "write_registry",
]
