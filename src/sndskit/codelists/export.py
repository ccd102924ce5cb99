"""Export a frozen code list (CSV, JSON, ATLAS concept set, SQL predicate, Markdown annex)
and import lists written elsewhere (CSV, ATLAS concept-set JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlglot import exp

from sndskit.codelists.model import CodeEntry, Codelist, ExcludedEntry, Provenance
from sndskit.errors import SndskitError
from sndskit.tabular import csv_reader, read_text, table_text, write_table
from sndskit.terminology.model import VOCABULARIES
from sndskit.terminology.search import search_index

if TYPE_CHECKING:
    from sndskit.omop.source_concepts import OmopConcept

ExportFormat = Literal["csv", "xlsx", "json", "atlas", "sql", "markdown"]
FORMATS = ("csv", "xlsx", "json", "atlas", "sql", "markdown")
TABULAR = ("csv", "xlsx")
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


def _rows(codelist: Codelist) -> list[list[str]]:
    rows = []
    for e in codelist.entries:
        rules = sorted({p.rule for p in e.found_from})
        inferred = all(p.inferred for p in e.found_from)
        rows.append(
            [e.vocabulary, e.code, e.label, " ".join(rules), _why(e), str(inferred).lower()]
        )
    return rows


def _atlas(codelist: Codelist, concepts: Mapping[tuple[str, str], OmopConcept] | None) -> str:
    """OHDSI ATLAS concept-set expression: every code listed explicitly (descendants were
    already resolved), exclusions with ``isExcluded``. With ``concepts`` (from the loaded
    OMOP vocabulary) each item carries its concept id and the codes without one are left out
    (ATLAS cannot import an item without id): :func:`atlas_coverage` lists them."""

    def item(vocabulary: str, code: str, label: str, excluded: bool) -> dict | None:
        concept = concepts.get((vocabulary, code)) if concepts is not None else None
        if concepts is not None and concept is None:
            return None
        return {
            "concept": {
                "CONCEPT_ID": concept.concept_id if concept else None,
                "CONCEPT_NAME": concept.concept_name if concept else label,
                "CONCEPT_CODE": concept.concept_code if concept else code,
                "VOCABULARY_ID": concept.vocabulary_id if concept else vocabulary,
                **(
                    {"DOMAIN_ID": concept.domain_id, "CONCEPT_CLASS_ID": concept.concept_class_id}
                    if concept
                    else {}
                ),
                "STANDARD_CONCEPT": (concept.standard_concept if concept else None) or "N",
                "INVALID_REASON": (concept.invalid_reason if concept else None) or "V",
            },
            "isExcluded": excluded,
            "includeDescendants": False,
            "includeMapped": False,
        }

    items = [item(e.vocabulary, e.code, e.label, False) for e in codelist.entries]
    items += [item(e.vocabulary, e.code, e.label, True) for e in codelist.excluded]
    kept = [i for i in items if i is not None]
    return json.dumps({"items": kept}, indent=2, ensure_ascii=False) + "\n"


def atlas_coverage(
    codelist: Codelist, concepts: Mapping[tuple[str, str], OmopConcept]
) -> dict[str, list[str]]:
    """Which codes of the list got an official Athena concept, a local one (id > 2e9, only
    meaningful where these local concepts are installed) or none (left out of the export)."""
    out: dict[str, list[str]] = {"official": [], "local": [], "missing": []}
    for e in [*codelist.entries, *codelist.excluded]:
        concept = concepts.get((e.vocabulary, e.code))
        kind = "missing" if concept is None else "local" if concept.local else "official"
        out[kind].append(f"{e.vocabulary} {e.code}")
    return out


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
    concepts: Mapping[tuple[str, str], OmopConcept] | None = None,
    sep: str = ",",
    bom: bool = False,
) -> str:
    """The list in ``fmt`` (csv, json, atlas, sql, markdown) as text; CSV with ``sep``
    (`;` for French spreadsheets) and an optional UTF-8 BOM."""
    if fmt == "csv":
        return table_text(CSV_COLUMNS, _rows(codelist), sep=sep, bom=bom)
    if fmt == "xlsx":
        raise SndskitError(
            "xlsx is a binary format: give a file to write", field="out", hint="use --out FILE"
        )
    if fmt == "json":
        return codelist.model_dump_json(indent=2, exclude_none=True) + "\n"
    if fmt == "atlas":
        return _atlas(codelist, concepts)
    if fmt == "sql":
        return _sql(codelist, dialect, column)
    if fmt == "markdown":
        return _markdown(codelist)
    raise SndskitError(f"unknown export format {fmt!r}", field="format", allowed=FORMATS)


def write_codelist_table(
    codelist: Codelist, path: Path | str, *, fmt: str = "csv", sep: str = ",", bom: bool = False
) -> Path:
    """The CSV/XLSX export written to ``path`` (atomically)."""
    return write_table(path, CSV_COLUMNS, _rows(codelist), fmt=fmt, sep=sep, bom=bom)


def _imported(
    name: str,
    entries: list[CodeEntry],
    excluded: list[ExcludedEntry],
    source: str,
    warnings: list[str],
) -> Codelist:
    return Codelist(
        name=name,
        description=f"imported from {source}",
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
        entries=sorted(entries, key=lambda e: e.key),
        excluded=excluded,
        warnings=warnings,
    )


def unknown_code_warnings(
    where: dict[tuple[str, str], str], store: Path | None = None
) -> list[str]:
    """One warning per code the terminology store does not know (``where``: code → place in
    the file), as ``codelist build`` warns; a single warning when there is no store."""
    try:
        index = search_index(store)
    except SndskitError:
        return ["codes not checked: no terminology store (run `sndskit data import`)"]
    return [
        f"{place}: {vocabulary} code {code} is not in the terminology store"
        for (vocabulary, code), place in where.items()
        if index.concept_id(vocabulary, code) is None
    ]


def import_codelist(
    path: Path | str, *, name: str | None = None, store: Path | None = None
) -> Codelist:
    """Read a CSV (``vocabulary,code[,label]``, separated by `,` `;` or tab, BOM or not) or
    an ATLAS concept-set JSON; codes unknown to the store are listed in ``warnings``."""
    path = Path(path)
    text = read_text(path)
    name = name or path.stem.lower().replace(" ", "_")
    why = Provenance(rule="import", via="imported", detail=path.name)
    if text.lstrip().startswith("{"):
        return _import_atlas(path, text, name, why, store)
    reader = csv_reader(text)
    missing = [c for c in ("vocabulary", "code") if c not in (reader.fieldnames or [])]
    if missing:
        raise SndskitError(
            f"missing column(s) {', '.join(missing)}",
            file=path,
            line=1,
            allowed=reader.fieldnames or [],
        )
    entries: dict[tuple[str, str], CodeEntry] = {}
    where: dict[tuple[str, str], str] = {}
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
        where.setdefault((vocabulary, code), f"line {reader.line_num}")
    warnings = unknown_code_warnings(where, store)
    return _imported(name, list(entries.values()), [], path.name, warnings)


def _import_atlas(
    path: Path, text: str, name: str, why: Provenance, store: Path | None
) -> Codelist:
    try:
        items = json.loads(text)["items"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SndskitError(
            f"not an ATLAS concept-set expression ({exc})", file=path, field="items"
        ) from None
    entries, excluded, where = {}, {}, {}
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
            where.setdefault((vocabulary, code), f"item {number}")
    return _imported(
        name,
        list(entries.values()),
        sorted(excluded.values(), key=lambda e: (e.vocabulary, e.code)),
        path.name,
        unknown_code_warnings(where, store),
    )
