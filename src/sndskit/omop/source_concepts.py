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
_CLASS_NAMES = {
    "SUBSTANCE": "Substance",
    "GENERIC_GROUP": "Generic grp",
    "SPE": "Specialty",
    "NAT": "Nature",
}
_SYNONYM_LANGUAGE = {"english": ENGLISH, "alt_code": None}  # others are French
CONCEPT_COLUMNS = (
    "concept_id",
    "concept_name",
    "domain_id",
    "vocabulary_id",
    "concept_class_id",
    "standard_concept",
    "concept_code",
    "valid_start_date",
    "valid_end_date",
    "invalid_reason",
)


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


def build_source_concepts(
    *,
    store: Path | None = None,
    registry: dict[tuple[str, str], int] | None = None,
    vocabularies: Iterable[str] | None = None,
    as_of: date | None = None,
) -> SourceConcepts:
    """SNDS concepts of the terminology store as OMOP source concepts (non-standard)."""
    con = connect_store(Path(store) if store else store_path())
    wanted = sorted(set(vocabularies or VOCABULARIES) & set(VOCABULARIES))
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
    present = sorted({r[0] for r in rows})
    keys = [(r[0], r[1]) for r in rows] + [(VOCABULARY_KEY, v) for v in present]
    before = len(registry or {})
    ids = assign_ids(keys, registry)
    today = as_of or date.today()
    concept = {name: [] for name in CONCEPT_COLUMNS}
    labels: dict[tuple[str, str], str] = {}

    def add(concept_id, name, domain, vocabulary, klass, code, start, end, invalid):
        for column, value in zip(
            CONCEPT_COLUMNS,
            (
                concept_id,
                _clean(name)[:255],
                domain,
                vocabulary,
                klass[:20],
                None,
                code[:50],
                start,
                end,
                invalid,
            ),
            strict=True,
        ):
            concept[column].append(value)

    for vocabulary, code, label, level, valid_from, valid_to in rows:
        invalid = "D" if valid_to is not None and valid_to < today else None
        add(
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
        labels[(vocabulary, code)] = label or code
    for vocabulary in present:
        add(
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
    synonym_rows: dict[tuple[int, str], int] = {}
    for key, label in labels.items():
        synonym_rows.setdefault((ids[key], _clean(label)[:1000]), FRENCH)
    for vocabulary, code, text, kind in synonyms:
        language = _SYNONYM_LANGUAGE.get(kind, FRENCH)
        if language is None or (vocabulary, code) not in labels or not text:
            continue
        synonym_rows.setdefault((ids[(vocabulary, code)], _clean(text)[:1000]), language)
    concept_types = {
        "concept_id": pa.int32(),
        "valid_start_date": pa.date32(),
        "valid_end_date": pa.date32(),
    }
    concept_table = pa.table(
        {
            name: pa.array(values, type=concept_types.get(name, pa.string()))
            for name, values in concept.items()
        }
    )
    synonym_table = pa.table(
        {
            "concept_id": pa.array([k[0] for k in synonym_rows], pa.int32()),
            "concept_synonym_name": pa.array([k[1] for k in synonym_rows], pa.string()),
            "language_concept_id": pa.array(list(synonym_rows.values()), pa.int32()),
        }
    )
    vocabulary_table = pa.table(
        {
            "vocabulary_id": present,
            "vocabulary_name": [VOCABULARIES[v] for v in present],
            "vocabulary_reference": ["sndskit (SNDS reference data)"] * len(present),
            "vocabulary_version": [versions.get(v) or "" for v in present],
            "vocabulary_concept_id": pa.array(
                [ids[(VOCABULARY_KEY, v)] for v in present], pa.int32()
            ),
        }
    )
    return SourceConcepts(
        concept=concept_table,
        concept_synonym=synonym_table,
        vocabulary=vocabulary_table,
        registry=ids,
        new_ids=len(ids) - before,
    )


def install_source_concepts(db: Path, concepts: SourceConcepts) -> None:
    """Replace the local concepts (ids > 2e9) of a vocabulary database with ``concepts``."""
    if not Path(db).exists():
        raise SndskitError(
            "no OMOP vocabulary database", file=db, hint="run `sndskit omop vocab load DIR` first"
        )
    con = duckdb.connect(str(db))
    try:
        con.execute("BEGIN")
        con.execute(f"DELETE FROM concept WHERE concept_id > {ID_BASE}")
        con.execute(f"DELETE FROM concept_synonym WHERE concept_id > {ID_BASE}")
        con.execute(f"DELETE FROM vocabulary WHERE vocabulary_concept_id > {ID_BASE}")
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
    "install_source_concepts",
    "read_registry",
    "write_registry",
]
