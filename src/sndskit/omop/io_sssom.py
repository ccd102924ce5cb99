"""SSSOM TSV (Simple Standard for Sharing Ontological Mappings) for sndskit mappings.

The predicate carries the equivalence as Usagi translates it (EQUAL → skos:exactMatch,
EQUIVALENT → skos:closeMatch, WIDER → skos:broadMatch, NARROWER → skos:narrowMatch,
INEXACT → skos:relatedMatch); UNMATCHED is ``object_id = sssom:NoTermFound``. Subjects are
``VOCABULARY:code`` CURIEs (``CIM10:E119``), objects ``OMOP:<concept_id>``. The SSSOM
``other`` column (pipe-separated ``key=value``, values percent-encoded) keeps what SSSOM
cannot say — review status, mapping type, exact times — so sndskit → SSSOM → sndskit is
lossless; files from other tools are read from the standard columns alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from pathlib import Path
from urllib.parse import quote, unquote

import yaml

from sndskit.errors import SndskitError
from sndskit.omop.io_common import (
    build_mapping,
    check_header,
    dict_rows,
    parse_enum,
    parse_number,
    write_csv,
)
from sndskit.omop.mappings import Equivalence, Mapping, MappingStatus, MappingType

SSSOM_COLUMNS = [
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "subject_source",
    "object_source",
    "object_category",
    "author_label",
    "reviewer_label",
    "mapping_date",
    "review_date",
    "confidence",
    "comment",
    "mapping_tool",
    "other",
]
SKOS = {
    Equivalence.EQUAL: "skos:exactMatch",
    Equivalence.EQUIVALENT: "skos:closeMatch",
    Equivalence.WIDER: "skos:broadMatch",
    Equivalence.NARROWER: "skos:narrowMatch",
    Equivalence.INEXACT: "skos:relatedMatch",
    Equivalence.UNREVIEWED: "skos:relatedMatch",
}
FROM_SKOS = {v: k for k, v in SKOS.items() if k != Equivalence.UNREVIEWED}
NO_TERM = "sssom:NoTermFound"
OMOP_PREFIX = "OMOP"
OMOP_URI = "https://athena.ohdsi.org/search-terms/terms/"


def _other(m: Mapping) -> str:
    pairs = {
        "status": m.status.value,
        "equivalence": m.equivalence.value,
        "mapping_type": m.mapping_type.value,
        "source_frequency": "" if m.source_frequency is None else str(m.source_frequency),
        "created_at": m.created_at.isoformat() if m.created_at else "",
        "reviewed_at": m.reviewed_at.isoformat() if m.reviewed_at else "",
        "assigned_reviewer": m.assigned_reviewer,
        "target_vocabulary_id": m.target_vocabulary_id,
    }
    return "|".join(f"{k}={quote(v, safe='')}" for k, v in pairs.items() if v)


def write_sssom(
    mappings: Iterable[Mapping],
    path: Path,
    *,
    mapping_set_id: str = "urn:sndskit:mappings",
    license_url: str | None = None,
) -> Path:
    mappings = list(mappings)
    prefixes = sorted({m.source_vocabulary for m in mappings})
    meta = {
        "curie_map": {
            **{p: f"urn:sndskit:{p}:" for p in prefixes},
            OMOP_PREFIX: OMOP_URI,
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "semapv": "https://w3id.org/semapv/vocab/",
            "sssom": "https://w3id.org/sssom/",
        },
        "mapping_set_id": mapping_set_id,
        "mapping_set_description": "SNDS source codes mapped to OMOP standard concepts (sndskit)",
    }
    if license_url:
        meta["license"] = license_url
    preamble = "".join(f"#{line}\n" for line in yaml.safe_dump(meta, sort_keys=False).splitlines())
    rows = []
    for m in mappings:
        justification = (
            "semapv:LexicalMatching"
            if m.status == MappingStatus.AUTO_MAPPED
            else "semapv:ManualMappingCuration"
        )
        rows.append(
            [
                f"{m.source_vocabulary}:{m.source_code}",
                m.source_name,
                SKOS.get(m.equivalence, "skos:exactMatch"),
                NO_TERM if m.target_concept_id == 0 else f"{OMOP_PREFIX}:{m.target_concept_id}",
                m.target_name,
                justification,
                f"urn:sndskit:{m.source_vocabulary}",
                OMOP_URI,
                m.target_domain_id,
                m.author,
                m.reviewer,
                m.created_at.date().isoformat() if m.created_at else "",
                m.reviewed_at.date().isoformat() if m.reviewed_at and m.reviewer else "",
                "" if m.score is None else repr(m.score),
                m.comment,
                "sndskit",
                _other(m),
            ]
        )
    return write_csv(path, SSSOM_COLUMNS, rows, delimiter="\t", preamble=preamble)


def read_sssom(path: Path) -> list[Mapping]:
    text = path.read_text(encoding="utf-8-sig")
    meta_lines = [line[1:] for line in text.splitlines() if line.startswith("#")]
    try:
        meta = yaml.safe_load("\n".join(meta_lines)) or {}
    except yaml.YAMLError as exc:
        raise SndskitError(f"bad SSSOM metadata block: {exc}", file=path, line=1) from None
    del meta  # the curie_map is not needed: subjects are VOCABULARY:code, objects OMOP:id
    reader, offset = dict_rows(path, "\t")
    check_header(reader.fieldnames, ["subject_id", "predicate_id", "object_id"], path)
    mappings = []
    for row in reader:
        at = {"file": path, "line": reader.line_num + offset}
        subject = row["subject_id"] or ""
        if ":" not in subject:
            raise SndskitError(
                f"subject_id {subject!r} is not a CURIE",
                **at,
                field="subject_id",
                allowed=["VOCABULARY:code"],
            )
        vocabulary, code = subject.split(":", 1)
        other = {}
        for pair in filter(None, (row.get("other") or "").split("|")):
            key, _, value = pair.partition("=")
            other[key] = unquote(value)
        obj = (row["object_id"] or "").strip()
        predicate = (row["predicate_id"] or "").strip()
        if obj != NO_TERM and predicate not in FROM_SKOS:
            raise SndskitError(
                f"unsupported predicate {predicate!r}",
                **at,
                field="predicate_id",
                allowed=list(FROM_SKOS),
            )
        if obj == NO_TERM:
            target, equivalence = 0, Equivalence.UNMATCHED
        else:
            if not obj.startswith(f"{OMOP_PREFIX}:"):
                raise SndskitError(
                    f"object_id {obj!r} is not an OMOP concept",
                    **at,
                    field="object_id",
                    allowed=[f"{OMOP_PREFIX}:<concept_id>", NO_TERM],
                )
            target = parse_number(obj.split(":", 1)[1], int, **at, field="object_id")
            equivalence = FROM_SKOS[predicate]
        justification = (row.get("mapping_justification") or "").strip()
        status = (
            MappingStatus.AUTO_MAPPED
            if justification != "semapv:ManualMappingCuration"
            else MappingStatus.APPROVED
            if row.get("reviewer_label")
            else MappingStatus.UNCHECKED
        )
        score = (row.get("confidence") or "").strip()
        fields = {
            "source_vocabulary": vocabulary,
            "source_code": code,
            "source_name": row.get("subject_label") or "",
            "target_concept_id": target,
            "target_name": row.get("object_label") or "",
            "target_domain_id": row.get("object_category") or "",
            "target_vocabulary_id": other.get("target_vocabulary_id", ""),
            "status": parse_enum(
                MappingStatus, other.get("status", status.value), **at, field="other"
            ),
            "equivalence": parse_enum(
                Equivalence, other.get("equivalence", equivalence.value), **at, field="other"
            ),
            "mapping_type": parse_enum(
                MappingType, other.get("mapping_type", "MAPS_TO"), **at, field="other"
            ),
            "score": parse_number(score, float, **at, field="confidence") if score else None,
            "author": row.get("author_label") or "",
            "reviewer": row.get("reviewer_label") or "",
            "comment": row.get("comment") or "",
            "assigned_reviewer": other.get("assigned_reviewer", ""),
            "source_frequency": int(other["source_frequency"])
            if other.get("source_frequency")
            else None,
            "created_at": other.get("created_at") or _midnight(row.get("mapping_date")),
            "reviewed_at": other.get("reviewed_at") or _midnight(row.get("review_date")),
        }
        mappings.append(build_mapping(fields, **at))
    return mappings


def _midnight(text: str | None) -> datetime | None:
    text = (text or "").strip()
    return datetime.combine(date.fromisoformat(text), time(), UTC) if text else None
