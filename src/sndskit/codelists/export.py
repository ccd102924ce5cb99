"""Export a frozen code list (CSV, JSON, ATLAS concept set, SQL predicate, Markdown annex)
and import lists written elsewhere (CSV, ATLAS concept-set JSON)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlglot import exp

from sndskit.codelists.model import CodeEntry, Codelist, ExcludedEntry, Provenance
from sndskit.errors import SndskitError
from sndskit.terminology.model import VOCABULARIES

ExportFormat = Literal["csv", "json", "atlas", "sql", "markdown"]
FORMATS = ("csv", "json", "atlas", "sql", "markdown")
DIALECTS = ("duckdb", "spark", "oracle", "postgres")

# The SNDS column each vocabulary is usually matched on (override with ``column=``).
DEFAULT_COLUMNS = {
    "CIM10": "DGN_PAL",
    "CCAM": "CAM_PRS_IDE",
    "CIP13": "PHA_PRS_C13",
    "CIP7": "PHA_PRS_IDE",
    "UCD": "UCD_UCD_COD",
    "NABM": "BIO_PRS_IDE",
    "LPP": "TIP_PRS_IDE",
    "ATC": "PHA_ATC_C07",
    "ALD": "IMB_ALD_NUM",
    "GHM": "GRG_GHM",
    "NAT": "PRS_NAT_REF",
    "SPE": "PSE_SPE_COD",
}
CSV_COLUMNS = ["vocabulary", "code", "label", "rules", "found_from", "inferred"]


def _why(entry: CodeEntry) -> str:
    return "; ".join(
        f"{p.rule}:{p.via}" + (f" ({p.detail})" if p.detail else "") for p in entry.found_from
    )


def _csv(codelist: Codelist) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in codelist.entries:
        rules = sorted({p.rule for p in e.found_from})
        inferred = all(p.inferred for p in e.found_from)
        writer.writerow(
            [e.vocabulary, e.code, e.label, " ".join(rules), _why(e), str(inferred).lower()]
        )
    return out.getvalue()


def _atlas(codelist: Codelist, concept_id: Callable[[str, str], int | None] | None) -> str:
    """OHDSI ATLAS concept-set expression: every code listed explicitly (descendants were
    already resolved), exclusions with ``isExcluded``."""

    def item(vocabulary: str, code: str, label: str, excluded: bool) -> dict:
        return {
            "concept": {
                "CONCEPT_ID": concept_id(vocabulary, code) if concept_id else None,
                "CONCEPT_NAME": label,
                "CONCEPT_CODE": code,
                "VOCABULARY_ID": vocabulary,
                "STANDARD_CONCEPT": "N",
                "INVALID_REASON": "V",
            },
            "isExcluded": excluded,
            "includeDescendants": False,
            "includeMapped": False,
        }

    items = [item(e.vocabulary, e.code, e.label, False) for e in codelist.entries]
    items += [item(e.vocabulary, e.code, e.label, True) for e in codelist.excluded]
    return json.dumps({"items": items}, indent=2, ensure_ascii=False) + "\n"


def codelist_predicate(
    codelist: Codelist, vocabulary: str, column: str | None = None
) -> exp.Expression:
    """``column IN (codes…)`` as a sqlglot expression; codes are string literals."""
    codes = codelist.codes(vocabulary)
    if not codes:
        raise SndskitError(
            f"the list has no {vocabulary} code",
            field="vocabulary",
            allowed=codelist.vocabularies(),
        )
    target = exp.column(column or DEFAULT_COLUMNS.get(vocabulary, "CODE"))
    return target.isin(*(exp.Literal.string(c) for c in codes))


def _sql(codelist: Codelist, dialect: str, column: str | None) -> str:
    if dialect not in DIALECTS:
        raise SndskitError(f"unknown SQL dialect {dialect!r}", field="dialect", allowed=DIALECTS)
    parts = []
    for vocabulary in codelist.vocabularies():
        name = column or DEFAULT_COLUMNS.get(vocabulary, "CODE")
        predicate = codelist_predicate(codelist, vocabulary, name).sql(dialect=dialect)
        parts.append(
            f"-- {codelist.name} v{codelist.version}: {vocabulary} "
            f"({len(codelist.codes(vocabulary))} codes) on {name}\n{predicate}"
        )
    return "\n\n".join(parts) + "\n"


def _markdown(codelist: Codelist) -> str:
    """The annex table of an access request (expression des besoins), in French."""
    lines = [
        f"### Liste de codes « {codelist.name} » (version {codelist.version})",
        "",
        codelist.description,
        "",
        f"- Auteur : {codelist.author or 'non renseigné'}",
        f"- Construite le : {codelist.built_at}",
    ]
    if codelist.source:
        lines.append(f"- Référence : {codelist.source}")
    for vocabulary, version in codelist.terminology.items():
        lines.append(f"- Terminologie {vocabulary} : {version}")
    lines += ["", "| Terminologie | Code | Libellé | Origine |", "|---|---|---|---|"]
    for e in codelist.entries:
        label = e.label.replace("|", "\\|")
        origin = ", ".join(sorted({f"{p.rule} ({p.via})" for p in e.found_from}))
        lines.append(f"| {e.vocabulary} | {e.code} | {label} | {origin} |")
    if codelist.excluded:
        lines += ["", f"Codes exclus : {len(codelist.excluded)} (voir l'export CSV)."]
    return "\n".join(lines) + "\n"


def export_codelist(
    codelist: Codelist,
    fmt: str,
    *,
    dialect: str = "duckdb",
    column: str | None = None,
    concept_id: Callable[[str, str], int | None] | None = None,
) -> str:
    """The list in ``fmt`` (csv, json, atlas, sql, markdown) as text."""
    if fmt == "csv":
        return _csv(codelist)
    if fmt == "json":
        return codelist.model_dump_json(indent=2, exclude_none=True) + "\n"
    if fmt == "atlas":
        return _atlas(codelist, concept_id)
    if fmt == "sql":
        return _sql(codelist, dialect, column)
    if fmt == "markdown":
        return _markdown(codelist)
    raise SndskitError(f"unknown export format {fmt!r}", field="format", allowed=FORMATS)


def _imported(
    name: str, entries: list[CodeEntry], excluded: list[ExcludedEntry], source: str
) -> Codelist:
    return Codelist(
        name=name,
        description=f"imported from {source}",
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
        entries=sorted(entries, key=lambda e: e.key),
        excluded=excluded,
    )


def import_codelist(path: Path | str, *, name: str | None = None) -> Codelist:
    """Read a CSV (``vocabulary,code[,label]``) or an ATLAS concept-set JSON."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SndskitError("file not found", file=path) from None
    name = name or path.stem.lower().replace(" ", "_")
    why = Provenance(rule="import", via="imported", detail=path.name)
    if text.lstrip().startswith("{"):
        return _import_atlas(path, text, name, why)
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("vocabulary", "code") if c not in (reader.fieldnames or [])]
    if missing:
        raise SndskitError(
            f"missing column(s) {', '.join(missing)}",
            file=path,
            line=1,
            allowed=reader.fieldnames or [],
        )
    entries = {}
    for row in reader:
        vocabulary = (row["vocabulary"] or "").strip().upper()
        if vocabulary not in VOCABULARIES:
            raise SndskitError(
                f"unknown vocabulary {row['vocabulary']!r}",
                file=path,
                line=reader.line_num,
                field="vocabulary",
                allowed=list(VOCABULARIES),
            )
        code = (row["code"] or "").strip().replace(".", "").upper()
        if not code:
            raise SndskitError("empty code", file=path, line=reader.line_num, field="code")
        entries[(vocabulary, code)] = CodeEntry(
            vocabulary=vocabulary,
            code=code,
            label=(row.get("label") or "").strip(),
            found_from=[why],
        )
    return _imported(name, list(entries.values()), [], path.name)


def _import_atlas(path: Path, text: str, name: str, why: Provenance) -> Codelist:
    try:
        items = json.loads(text)["items"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SndskitError(
            f"not an ATLAS concept-set expression ({exc})", file=path, field="items"
        ) from None
    entries, excluded = {}, {}
    for number, item in enumerate(items, start=1):
        concept = item.get("concept") or {}
        vocabulary = str(concept.get("VOCABULARY_ID", "")).upper()
        code = str(concept.get("CONCEPT_CODE", "")).replace(".", "").upper()
        if vocabulary not in VOCABULARIES or not code:
            raise SndskitError(
                f"item {number}: needs an SNDS VOCABULARY_ID and a CONCEPT_CODE",
                file=path,
                field=f"items.{number - 1}.concept",
                allowed=list(VOCABULARIES),
            )
        label = str(concept.get("CONCEPT_NAME", ""))
        if item.get("isExcluded"):
            excluded[(vocabulary, code)] = ExcludedEntry(
                vocabulary=vocabulary,
                code=code,
                label=label,
                reason="isExcluded in the ATLAS concept set",
            )
        else:
            entries[(vocabulary, code)] = CodeEntry(
                vocabulary=vocabulary, code=code, label=label, found_from=[why]
            )
    return _imported(
        name,
        list(entries.values()),
        sorted(excluded.values(), key=lambda e: (e.vocabulary, e.code)),
        path.name,
    )
