"""Read and write mappings as Usagi CSV, OMOP ``source_to_concept_map``, ``CONCEPT_RELATIONSHIP``
"Maps to" rows, and SSSOM TSV.

* **usagi** — the columns Usagi 1.4+ writes (``WriteCodeMappingsToFile``): ``sourceCode``,
  ``sourceName``, ``sourceFrequency``, ``sourceAutoAssignedConceptIds``, ``ADD_INFO:*``,
  ``matchScore``, ``mappingStatus``, ``equivalence``, ``statusSetBy``, ``statusSetOn``,
  ``conceptId``, ``conceptName``, ``domainId``, ``mappingType``, ``comment``, ``createdBy``,
  ``createdOn``, ``assignedReviewer`` (times in epoch milliseconds, ``conceptId`` 0 = no
  target). Usagi has no source-vocabulary column: sndskit writes ``ADD_INFO:sourceVocabulary``
  and reads it back, or takes ``source_vocabulary=`` for files made by Usagi. Lossless.
* **stcm** — CDM 5.4 ``SOURCE_TO_CONCEPT_MAP``: only ``MAPS_TO`` rows with a target; no
  review state (imported with ``default_status``).
* **relationship** — ``CONCEPT_RELATIONSHIP`` rows ``Maps to`` / ``Maps to value`` /
  ``Maps to unit`` from the source concept (id > 2e9) plus the reverse rows; no review state.
* **sssom** — SSSOM TSV, see :mod:`sndskit.omop.io_sssom`. Lossless.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from sndskit.errors import SndskitError
from sndskit.omop.io_common import (
    SourceIds,
    build_mapping,
    check_header,
    dict_rows,
    from_ms,
    parse_enum,
    parse_number,
    to_ms,
    write_csv,
)
from sndskit.omop.io_sssom import read_sssom, write_sssom
from sndskit.omop.mappings import (
    LEGACY_STATUSES,
    Equivalence,
    Mapping,
    MappingStatus,
    MappingType,
)

FORMATS = ("usagi", "stcm", "relationship", "sssom")
USAGI_COLUMNS = [
    "sourceCode",
    "sourceName",
    "sourceFrequency",
    "sourceAutoAssignedConceptIds",
    "ADD_INFO:sourceVocabulary",
    "ADD_INFO:sourceConceptId",
    "matchScore",
    "mappingStatus",
    "equivalence",
    "statusSetBy",
    "statusSetOn",
    "conceptId",
    "conceptName",
    "domainId",
    "mappingType",
    "comment",
    "createdBy",
    "createdOn",
    "assignedReviewer",
]
USAGI_REQUIRED = ("sourceCode", "mappingStatus", "conceptId")
STCM_COLUMNS = [
    "source_code",
    "source_concept_id",
    "source_vocabulary_id",
    "source_code_description",
    "target_concept_id",
    "target_vocabulary_id",
    "valid_start_date",
    "valid_end_date",
    "invalid_reason",
]
RELATIONSHIP_COLUMNS = [
    "concept_id_1",
    "concept_id_2",
    "relationship_id",
    "valid_start_date",
    "valid_end_date",
    "invalid_reason",
]
MAPS_TO = {
    MappingType.MAPS_TO: ("Maps to", "Mapped from"),
    MappingType.MAPS_TO_VALUE: ("Maps to value", "Value mapped from"),
    MappingType.MAPS_TO_UNIT: ("Maps to unit", "Unit mapped from"),
}
END_OF_TIME = date(2099, 12, 31)


def detect_format(path: Path) -> str:
    """Guess the format from the header line."""
    with Path(path).open(encoding="utf-8-sig") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
        else:
            line = ""
    if "sourceCode" in line:
        return "usagi"
    if "subject_id" in line:
        return "sssom"
    if "source_concept_id" in line:
        return "stcm"
    if "concept_id_1" in line:
        return "relationship"
    raise SndskitError(
        "cannot tell the mapping format from the header", file=path, line=1, allowed=list(FORMATS)
    )


# -- Usagi ------------------------------------------------------------------------------
def read_usagi(path: Path, *, source_vocabulary: str | None = None) -> list[Mapping]:
    reader, _ = dict_rows(path, ",")
    check_header(reader.fieldnames, USAGI_REQUIRED, path)
    mappings = []
    for row in reader:
        line = reader.line_num
        at = {"file": path, "line": line}
        vocabulary = (row.get("ADD_INFO:sourceVocabulary") or source_vocabulary or "").strip()
        if not vocabulary:
            raise SndskitError(
                "no source vocabulary",
                **at,
                field="ADD_INFO:sourceVocabulary",
                hint="pass --source-vocabulary (e.g. CIM10)",
            )
        score = (row.get("matchScore") or "").strip()
        frequency = (row.get("sourceFrequency") or "").strip()
        frequency_value = (
            parse_number(frequency, int, **at, field="sourceFrequency") if frequency else None
        )
        fields = {
            "source_vocabulary": vocabulary,
            "source_code": row.get("sourceCode") or "",
            "source_name": row.get("sourceName") or "",
            "source_frequency": frequency_value if (frequency_value or 0) >= 0 else None,
            "target_concept_id": parse_number(
                row.get("conceptId") or "0", int, **at, field="conceptId"
            ),
            "target_name": row.get("conceptName") or "",
            "target_domain_id": row.get("domainId") or "",
            "mapping_type": parse_enum(
                MappingType, row.get("mappingType") or "MAPS_TO", **at, field="mappingType"
            ),
            "status": parse_enum(
                MappingStatus,
                row.get("mappingStatus") or "",
                **at,
                field="mappingStatus",
                legacy=LEGACY_STATUSES,
            ),
            "equivalence": parse_enum(
                Equivalence, row.get("equivalence") or "UNREVIEWED", **at, field="equivalence"
            ),
            "score": parse_number(score, float, **at, field="matchScore") if score else None,
            "author": row.get("createdBy") or "",
            "created_at": from_ms(row.get("createdOn") or "", {**at, "field": "createdOn"}),
            "reviewer": row.get("statusSetBy") or "",
            "reviewed_at": from_ms(row.get("statusSetOn") or "", {**at, "field": "statusSetOn"}),
            "assigned_reviewer": row.get("assignedReviewer") or "",
            "comment": row.get("comment") or "",
        }
        mappings.append(build_mapping(fields, **at))
    return mappings


def write_usagi(
    mappings: Iterable[Mapping], path: Path, *, source_ids: SourceIds | None = None
) -> Path:
    rows = []
    for m in mappings:
        rows.append(
            [
                m.source_code,
                m.source_name,
                "" if m.source_frequency is None else m.source_frequency,
                "",
                m.source_vocabulary,
                (source_ids or {}).get(m.source, ""),
                "" if m.score is None else repr(m.score),
                m.status.value,
                m.equivalence.value,
                m.reviewer,
                to_ms(m.reviewed_at),
                m.target_concept_id,
                m.target_name,
                m.target_domain_id,
                m.mapping_type.value,
                m.comment,
                m.author,
                to_ms(m.created_at),
                m.assigned_reviewer,
            ]
        )
    return write_csv(path, USAGI_COLUMNS, rows)


# -- source_to_concept_map ----------------------------------------------------------------
def _date(text: str, at: dict) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise SndskitError(f"not a date: {text!r}", **at, allowed=["YYYY-MM-DD", "YYYYMMDD"])


def _created(m: Mapping) -> str:
    return (m.created_at.date() if m.created_at else date(1970, 1, 1)).isoformat()


def read_stcm(
    path: Path, *, default_status: MappingStatus = MappingStatus.UNCHECKED
) -> list[Mapping]:
    reader, _ = dict_rows(path)
    check_header(reader.fieldnames, STCM_COLUMNS[:6], path)
    mappings = []
    for row in reader:
        at = {"file": path, "line": reader.line_num}
        if (row.get("invalid_reason") or "").strip():
            continue  # a retired mapping row
        target = parse_number(row["target_concept_id"] or "0", int, **at, field="target_concept_id")
        fields = {
            "source_vocabulary": row["source_vocabulary_id"],
            "source_code": row["source_code"],
            "source_name": row.get("source_code_description") or "",
            "target_concept_id": target,
            "target_vocabulary_id": row.get("target_vocabulary_id") or "",
            "status": default_status,
            "equivalence": Equivalence.UNMATCHED if target == 0 else Equivalence.UNREVIEWED,
        }
        mappings.append(build_mapping(fields, **at))
    return mappings


def write_stcm(
    mappings: Iterable[Mapping], path: Path, *, source_ids: SourceIds | None = None
) -> Path:
    rows = [
        [
            m.source_code,
            (source_ids or {}).get(m.source, 0),
            m.source_vocabulary,
            m.source_name[:255],
            m.target_concept_id,
            m.target_vocabulary_id,
            _created(m),
            END_OF_TIME.isoformat(),
            "",
        ]
        for m in mappings
        if m.target_concept_id > 0
        and m.mapping_type == MappingType.MAPS_TO
        and m.equivalence != Equivalence.UNMATCHED
    ]
    return write_csv(path, STCM_COLUMNS, rows)


# -- CONCEPT_RELATIONSHIP -------------------------------------------------------------------
def read_relationship(
    path: Path, *, source_ids: SourceIds, default_status: MappingStatus = MappingStatus.UNCHECKED
) -> list[Mapping]:
    by_id = {concept_id: key for key, concept_id in source_ids.items()}
    types = {names[0]: kind for kind, names in MAPS_TO.items()}
    reader, _ = dict_rows(path)
    check_header(reader.fieldnames, RELATIONSHIP_COLUMNS[:3], path)
    mappings = []
    for row in reader:
        at = {"file": path, "line": reader.line_num}
        kind = types.get((row["relationship_id"] or "").strip())
        if kind is None or (row.get("invalid_reason") or "").strip():
            continue  # reverse rows, other relationships, retired rows
        source_id = parse_number(row["concept_id_1"], int, **at, field="concept_id_1")
        if source_id not in by_id:
            raise SndskitError(
                f"concept_id_1 {source_id} is not a known source concept",
                **at,
                field="concept_id_1",
                hint="run `sndskit omop source-concepts` first",
            )
        vocabulary, code = by_id[source_id]
        fields = {
            "source_vocabulary": vocabulary,
            "source_code": code,
            "mapping_type": kind,
            "target_concept_id": parse_number(row["concept_id_2"], int, **at, field="concept_id_2"),
            "status": default_status,
        }
        mappings.append(build_mapping(fields, **at))
    return mappings


def write_relationship(mappings: Iterable[Mapping], path: Path, *, source_ids: SourceIds) -> Path:
    rows = []
    for m in mappings:
        if m.target_concept_id == 0 or m.equivalence == Equivalence.UNMATCHED:
            continue
        if m.source not in source_ids:
            raise SndskitError(
                f"no source concept id for {m.source_vocabulary} {m.source_code}",
                field="source_code",
                hint="run `sndskit omop source-concepts`",
            )
        forward, reverse = MAPS_TO[m.mapping_type]
        source_id, start = source_ids[m.source], _created(m)
        rows.append([source_id, m.target_concept_id, forward, start, END_OF_TIME.isoformat(), ""])
        rows.append([m.target_concept_id, source_id, reverse, start, END_OF_TIME.isoformat(), ""])
    return write_csv(path, RELATIONSHIP_COLUMNS, rows)


# -- entry points -----------------------------------------------------------------------------
def read_mappings(
    path: str | Path,
    fmt: str | None = None,
    *,
    source_vocabulary: str | None = None,
    source_ids: SourceIds | None = None,
    default_status: MappingStatus = MappingStatus.UNCHECKED,
) -> list[Mapping]:
    """Read a mapping file in any supported format (guessed from the header when not given)."""
    path = Path(path)
    if not path.is_file():
        raise SndskitError("no such mapping file", file=path)
    fmt = (fmt or detect_format(path)).lower()
    if fmt == "usagi":
        return read_usagi(path, source_vocabulary=source_vocabulary)
    if fmt == "stcm":
        return read_stcm(path, default_status=default_status)
    if fmt == "relationship":
        if source_ids is None:
            raise SndskitError(
                "reading CONCEPT_RELATIONSHIP needs the source concept ids",
                file=path,
                hint="run `sndskit omop source-concepts` first",
            )
        return read_relationship(path, source_ids=source_ids, default_status=default_status)
    if fmt == "sssom":
        return read_sssom(path)
    raise SndskitError(f"unknown format {fmt!r}", field="format", allowed=list(FORMATS))


def write_mappings(
    mappings: Iterable[Mapping], path: str | Path, fmt: str, *, source_ids: SourceIds | None = None
) -> Path:
    """Write ``mappings`` to ``path`` atomically in format ``fmt``."""
    path = Path(path)
    fmt = fmt.lower()
    if fmt == "usagi":
        return write_usagi(mappings, path, source_ids=source_ids)
    if fmt == "stcm":
        return write_stcm(mappings, path, source_ids=source_ids)
    if fmt == "relationship":
        return write_relationship(mappings, path, source_ids=source_ids or {})
    if fmt == "sssom":
        return write_sssom(mappings, path)
    raise SndskitError(f"unknown format {fmt!r}", field="format", allowed=list(FORMATS))


__all__ = ["FORMATS", "detect_format", "read_mappings", "write_mappings"]
