"""`sndskit omop …`: OMOP vocabulary, SNDS source concepts, mappings, suggestions, quality."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sndskit.cli.render import (
    ThresholdOption,
    UnsafeOption,
    check_threshold_option,
    console,
    err_console,
    print_json,
)
from sndskit.config import store_path
from sndskit.disclosure import DEFAULT_THRESHOLD
from sndskit.errors import SndskitError
from sndskit.omop.io_formats import FORMATS, read_mappings, write_mappings
from sndskit.omop.mappings import (
    Equivalence,
    Mapping,
    MappingStatus,
    MappingStore,
    default_mapping_store,
    enrich_targets,
)
from sndskit.omop.quality import assess_quality, read_usage
from sndskit.omop.report import headline, protect_report, write_report
from sndskit.omop.review import read_review
from sndskit.omop.source_concepts import (
    build_source_concepts,
    default_registry_path,
    export_athena,
    install_source_concepts,
    official_vocabularies,
    read_registry,
    source_concept_ids_all,
    write_registry,
)
from sndskit.omop.suggest import (
    MIN_CANDIDATE_SCORE,
    Suggester,
    candidate_mappings,
    evaluate_suggestions,
)
from sndskit.omop.vocabulary import (
    connect_vocabulary,
    default_vocabulary_db,
    describe_concepts,
    load_vocabulary,
    vocabulary_summary,
)

app = typer.Typer(
    no_args_is_help=True,
    help="OMOP-CDM alignment: vocabulary, source concepts, mappings, suggestions, quality.",
)
vocab_app = typer.Typer(no_args_is_help=True, help="Load and inspect Athena vocabularies.")
mappings_app = typer.Typer(no_args_is_help=True, help="The mapping store: import, export, review.")
app.add_typer(vocab_app, name="vocab")
app.add_typer(mappings_app, name="mappings")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DbOption = Annotated[
    Path | None, typer.Option("--db", help="OMOP vocabulary database (default $SNDSKIT_HOME/omop).")
]
StoreOption = Annotated[
    Path | None, typer.Option("--store", help="Mapping store (default $SNDSKIT_HOME/omop).")
]


def _choice(value: str | None, allowed, field: str):
    if value is None:
        return None
    try:
        return allowed(value.upper())
    except ValueError:
        raise SndskitError(
            f"unknown value {value!r}", field=field, allowed=[a.value for a in allowed]
        ) from None


def _split(values: str | None) -> list[str] | None:
    return [v.strip() for v in values.split(",") if v.strip()] if values else None


def _vocab_or_none(db: Path | None):
    """The vocabulary database: required when given, optional (None) when absent by default."""
    if db is not None or default_vocabulary_db().exists():
        return connect_vocabulary(db)
    return None


def _source_ids(db: Path | None) -> dict[tuple[str, str], int]:
    con = _vocab_or_none(db)
    if con is not None:
        try:
            ids = source_concept_ids_all(con)
        finally:
            con.close()
        if ids:
            return ids
    return read_registry(default_registry_path())


def _load(spec: Path, fmt: str | None, source_vocabulary: str | None) -> list[Mapping]:
    """Mappings from a store (``.duckdb``) or from a file in any supported format."""
    if spec.suffix == ".duckdb":
        with MappingStore(spec, read_only=True) as store:
            return store.mappings()
    return read_mappings(spec, fmt, source_vocabulary=source_vocabulary)


# -- vocab ---------------------------------------------------------------------------------
@vocab_app.command("load")
def vocab_load(
    directory: Annotated[Path, typer.Argument(help="Folder of Athena files (CONCEPT.csv …).")],
    db: DbOption = None,
    memory_limit: Annotated[str, typer.Option(help="DuckDB memory limit.")] = "2GB",
    json_output: JsonFlag = False,
) -> None:
    """Load an Athena download (tab- or comma-separated) into the OMOP vocabulary database."""
    result = load_vocabulary(directory, db, memory_limit=memory_limit)
    if json_output:
        return print_json(result.model_dump(mode="json"))
    table = Table("table", "rows", "file", "format", "seconds", title=str(result.db))
    for t in result.tables:
        fmt = "derived" if t.derived else f"{t.delimiter}, {t.date_format or 'no dates'}"
        table.add_row(t.table, f"{t.rows:,}", t.file, fmt, f"{t.seconds:.2f}")
    console.print(table)
    console.print(f"loaded in {result.seconds:.1f} s — run `sndskit omop source-concepts` next")


@vocab_app.command("info")
def vocab_info(db: DbOption = None, json_output: JsonFlag = False) -> None:
    """Concepts per vocabulary in the OMOP vocabulary database."""
    con = connect_vocabulary(db)
    try:
        summary = vocabulary_summary(con)
    finally:
        con.close()
    if json_output:
        return print_json(summary)
    table = Table("vocabulary", "concepts", "standard", "invalid")
    for row in summary:
        table.add_row(
            row["vocabulary_id"],
            f"{row['concepts']:,}",
            f"{row['standard']:,}",
            f"{row['invalid']:,}",
        )
    console.print(table)


# -- source concepts -------------------------------------------------------------------------
@app.command("source-concepts")
def source_concepts_command(
    out: Annotated[Path | None, typer.Option(help="Also write Athena-style CSVs here.")] = None,
    db: DbOption = None,
    registry: Annotated[Path | None, typer.Option(help="Id registry CSV.")] = None,
    vocab: Annotated[str | None, typer.Option(help="Comma-separated SNDS vocabularies.")] = None,
    install: Annotated[bool, typer.Option(help="Write them into the vocabulary database.")] = True,
) -> None:
    """SNDS codes as non-standard OMOP concepts (ids > 2,000,000,000, stable, registry kept).

    Vocabularies whose Athena concepts are loaded (CIM10, ATC) reuse them: no local copy.
    A run for some vocabularies (--vocab) keeps the local concepts of the others."""
    registry_path = registry or default_registry_path()
    con = _vocab_or_none(db)
    try:
        official = official_vocabularies(con) if con is not None else []
    finally:
        if con is not None:
            con.close()
    concepts = build_source_concepts(
        store=store_path(),
        registry=read_registry(registry_path),
        vocabularies=_split(vocab),
        official=official,
    )
    write_registry(registry_path, concepts.registry)
    for vocabulary in concepts.reused:
        console.print(
            f"{vocabulary}: concepts officiels Athena réutilisés / Athena's official concepts "
            "reused (no local copy)"
        )
    if install and (db is not None or default_vocabulary_db().exists()):
        install_source_concepts(db or default_vocabulary_db(), concepts)
        console.print(
            f"installed in {db or default_vocabulary_db()} "
            f"(replaced: {', '.join(concepts.vocabularies + concepts.reused) or 'none'})"
        )
    if out:
        for path in export_athena(concepts, out):
            console.print(f"wrote {path}")
    console.print(
        f"{concepts.concept.num_rows:,} source concepts, {concepts.concept_synonym.num_rows:,} "
        f"synonyms; {concepts.new_ids:,} new ids in {registry_path}"
    )


# -- mappings --------------------------------------------------------------------------------
@mappings_app.command("import")
def mappings_import(
    file: Annotated[Path, typer.Argument(help="Mapping file.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="usagi|stcm|relationship|sssom")
    ] = None,
    store: StoreOption = None,
    db: DbOption = None,
    source_vocabulary: Annotated[
        str | None, typer.Option(help="Source vocabulary of a Usagi file without one (CIM10 …).")
    ] = None,
    status: Annotated[
        str, typer.Option(help="Status given to rows of formats without review state.")
    ] = "UNCHECKED",
    author: Annotated[str, typer.Option(help="Who imports (recorded in the history).")] = "sndskit",
    merge: Annotated[
        bool, typer.Option(help="Keep targets of the codes that the file does not list.")
    ] = False,
) -> None:
    """Import a mapping file into the store; every change goes to the history."""
    if fmt is not None and fmt.lower() not in FORMATS:
        raise SndskitError(f"unknown format {fmt!r}", field="--format", allowed=list(FORMATS))
    default_status = _choice(status, MappingStatus, "--status")
    ids = _source_ids(db) if (fmt or "").lower() == "relationship" else None
    mappings = read_mappings(
        file,
        fmt,
        source_vocabulary=source_vocabulary,
        source_ids=ids,
        default_status=default_status,
    )
    con = _vocab_or_none(db)
    if con is not None:
        try:
            mappings = enrich_targets(
                mappings, describe_concepts(con, [m.target_concept_id for m in mappings])
            )
        finally:
            con.close()
    with MappingStore(store) as target:
        summary = target.apply(
            mappings,
            actor=author,
            origin=f"import {fmt or 'auto'}:{file.name}",
            replace_codes=not merge,
        )
    console.print(
        f"{len(mappings)} rows read: {summary.added} added, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.removed} removed "
        f"→ {store or default_mapping_store()}"
    )


@mappings_app.command("export")
def mappings_export(
    out: Annotated[Path, typer.Argument(help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="usagi|stcm|relationship|sssom")] = "usagi",
    store: StoreOption = None,
    db: DbOption = None,
    status: Annotated[
        str | None, typer.Option(help="Only these statuses (comma-separated).")
    ] = None,
    vocab: Annotated[str | None, typer.Option(help="Only this source vocabulary.")] = None,
) -> None:
    """Export the store (all of it, or some statuses) in one of the four formats."""
    if fmt.lower() not in FORMATS:
        raise SndskitError(f"unknown format {fmt!r}", field="--format", allowed=list(FORMATS))
    wanted = {_choice(s, MappingStatus, "--status") for s in _split(status) or []}
    with MappingStore(store, read_only=True) as source:
        mappings = [m for m in source.mappings(vocab) if not wanted or m.status in wanted]
    path = write_mappings(mappings, out, fmt, source_ids=_source_ids(db))
    console.print(f"{len(mappings)} mappings → {path}")


@mappings_app.command("review")
def mappings_review(
    vocabulary: Annotated[str, typer.Argument(help="Source vocabulary, e.g. CIM10.")],
    code: Annotated[str, typer.Argument(help="Source code.")],
    status: Annotated[str, typer.Option(help="New status.")],
    reviewer: Annotated[str, typer.Option(help="Who reviews.")],
    equivalence: Annotated[str | None, typer.Option(help="New equivalence.")] = None,
    comment: Annotated[str | None, typer.Option(help="Comment.")] = None,
    target: Annotated[int | None, typer.Option(help="Only this target concept id.")] = None,
    store: StoreOption = None,
) -> None:
    """Set the review state of a code's mappings (recorded in the history)."""
    with MappingStore(store) as target_store:
        updated = target_store.review(
            vocabulary.upper(),
            code,
            reviewer=reviewer,
            status=_choice(status, MappingStatus, "--status"),
            equivalence=_choice(equivalence, Equivalence, "--equivalence"),
            comment=comment,
            target_concept_id=target,
        )
    console.print(
        f"{len(updated)} mapping(s) of {vocabulary.upper()} {code} set to {status.upper()}"
    )


@mappings_app.command("history")
def mappings_history(
    vocabulary: Annotated[str | None, typer.Argument(help="Source vocabulary.")] = None,
    code: Annotated[str | None, typer.Argument(help="Source code.")] = None,
    store: StoreOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Every change to the mappings (of one code), oldest first."""
    with MappingStore(store, read_only=True) as source:
        events = source.history(vocabulary.upper() if vocabulary else None, code)
    if json_output:
        return print_json(
            [
                {
                    "event_id": e.event_id,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "origin": e.origin,
                    "code": f"{(e.after or e.before).source_vocabulary} "
                    f"{(e.after or e.before).source_code}",
                    "changes": e.changes,
                }
                for e in events
            ]
        )
    table = Table("at", "actor", "action", "code", "target", "changes")
    for e in events:
        ref = e.after or e.before
        changed = ", ".join(k for k in e.changes if k not in ("created_at",))
        table.add_row(
            e.at.strftime("%Y-%m-%d %H:%M"),
            e.actor,
            e.action,
            f"{ref.source_vocabulary} {ref.source_code}",
            str(ref.target_concept_id),
            changed if e.action == "update" else "",
        )
    console.print(table)


# -- suggest ------------------------------------------------------------------------------
@app.command("suggest")
def suggest_command(
    vocab: Annotated[str, typer.Option(help="Source vocabulary.")] = "CIM10",
    top: Annotated[int, typer.Option(min=1, max=50, help="Suggestions per code.")] = 5,
    codes: Annotated[str | None, typer.Option(help="Comma-separated codes.")] = None,
    usage: Annotated[Path | None, typer.Option(help="Usage counts: most frequent first.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many codes.")] = 50,
    out: Annotated[
        Path | None,
        typer.Option(help="Write one unreviewed (UNCHECKED) candidate per code as a Usagi CSV."),
    ] = None,
    min_score: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Candidates below this score are not written."),
    ] = MIN_CANDIDATE_SCORE,
    evaluate: Annotated[
        bool, typer.Option("--evaluate", help="Top-1/top-5 accuracy on approved mappings.")
    ] = False,
    store: StoreOption = None,
    db: DbOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Top-k standard concepts for unmapped codes, with scores and evidence."""
    vocabulary = vocab.upper()
    path = store or default_mapping_store()
    existing = []
    if path.exists():
        with MappingStore(path, read_only=True) as source:
            existing = source.mappings(vocabulary)
    approved = [m for m in existing if m.status == MappingStatus.APPROVED]
    con = connect_vocabulary(db)
    try:
        engine = Suggester(con, vocabulary, store=store_path(), approved=approved)
        if evaluate:
            result = evaluate_suggestions(engine, approved)
            return print_json(result) if json_output else console.print(result)
        mapped = {m.source_code for m in existing if m.is_mapped}
        if codes:
            wanted = _split(codes)
        elif usage:
            counts = read_usage(usage)
            wanted = [
                c for (v, c), _ in sorted(counts.items(), key=lambda x: -x[1]) if v == vocabulary
            ]
        else:
            wanted = sorted(engine.labels)
        wanted = [c for c in wanted if c not in mapped][:limit]
        suggestions = [s for code in wanted for s in engine.suggest(code, top)]
    finally:
        con.close()
    if out:
        ranked = {(vocabulary, c, engine.labels.get(c, "")): [] for c in wanted}
        for s in suggestions:
            ranked[(vocabulary, s.source_code, engine.labels.get(s.source_code, ""))].append(s)
        rows = candidate_mappings(ranked, min_score=min_score)
        write_mappings(rows, out, "usagi")
        with_target = sum(1 for m in rows if m.target_concept_id)
        err_console.print(
            f"{with_target} candidats non revus (UNCHECKED) / unreviewed candidates, "
            f"{len(rows) - with_target} codes sans candidat ≥ {min_score:.2f} / without a "
            f"candidate → {out}"
        )
    if json_output:
        return print_json([s.model_dump() for s in suggestions])
    table = Table("code", "label", "#", "concept", "name", "domain", "score", "evidence")
    for s in suggestions:
        table.add_row(
            s.source_code,
            s.source_name[:40] if s.rank == 1 else "",
            str(s.rank),
            str(s.concept_id),
            s.concept_name,
            s.domain_id,
            f"{s.score:.2f}",
            s.evidence,
        )
    console.print(table)


# -- quality -------------------------------------------------------------------------------
@app.command("quality")
def quality_command(
    mappings: Annotated[Path, typer.Option(help="Mapping store (.duckdb) or mapping file.")],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    usage: Annotated[Path | None, typer.Option(help="Record counts per code.")] = None,
    previous: Annotated[Path | None, typer.Option(help="Previous mapping version.")] = None,
    previous_as_of: Annotated[
        str | None, typer.Option(help="Previous version = the store's state at this date.")
    ] = None,
    review: Annotated[Path | None, typer.Option(help="Filled review sample (CSV).")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Format of the mapping files.")
    ] = None,
    source_vocabulary: Annotated[str | None, typer.Option(help="For Usagi files.")] = None,
    sample_size: Annotated[int, typer.Option(min=1, help="Review sample size.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the review sample.")] = 7,
    db: DbOption = None,
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    unsafe_threshold: UnsafeOption = False,
) -> None:
    """Alignment-quality report: quality.json, quality.html, quality.md, review_sample.csv."""
    check_threshold_option(threshold, unsafe_threshold)
    current = _load(mappings, fmt, source_vocabulary)
    before = _load(previous, fmt, source_vocabulary) if previous else None
    if previous_as_of:
        if mappings.suffix != ".duckdb":
            raise SndskitError(
                "--previous-as-of needs a mapping store",
                field="--mappings",
                allowed=["a .duckdb mapping store"],
            )
        when = datetime.combine(date.fromisoformat(previous_as_of), datetime.max.time(), UTC)
        with MappingStore(mappings, read_only=True) as source:
            before = source.as_of(when)
    con = _vocab_or_none(db)
    try:
        report = assess_quality(
            current,
            vocab=con,
            store=store_path() if store_path().exists() else None,
            usage=read_usage(usage) if usage else None,
            previous=before,
            review=read_review(review) if review else None,
            sample_size=sample_size,
            seed=seed,
        )
    finally:
        if con is not None:
            con.close()
    for path in write_report(report, out, threshold=threshold, unsafe_threshold=unsafe_threshold):
        console.print(f"wrote {path}")
    for line in headline(protect_report(report, threshold, unsafe_threshold)):
        console.print(f"• {line}")


def _one_of(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise SndskitError(f"unknown value {value!r}", field=field, allowed=allowed)
    return value


@app.command("etl")
def etl_command(
    data: Annotated[Path, typer.Option(help="SNDS data folder (or .duckdb database).")],
    out: Annotated[Path, typer.Option(help="Output folder of the CDM tables.")],
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    mappings: Annotated[
        Path | None, typer.Option(help="Mapping store (.duckdb) or file (default: the store).")
    ] = None,
    db: DbOption = None,
    duckdb_out: Annotated[
        Path | None, typer.Option("--duckdb", help="Also write a DuckDB database (5.4 DDL).")
    ] = None,
    quality_filters: Annotated[str, typer.Option(help="cnam, scalpel, minimal, none.")] = "cnam",
    flux_lag_months: Annotated[int, typer.Option(help="DCIR flux lag (months).")] = 6,
    finess_duplicates: Annotated[str, typer.Option(help="finess_46, finess_166, none.")] = (
        "finess_46"
    ),
    threshold: Annotated[int, typer.Option(help="Mask published counts 1..N.")] = 10,
    spark_master: Annotated[str | None, typer.Option(help="Spark master URL.")] = None,
) -> None:
    """SNDS → OMOP-CDM 5.4 (Parquet), with DQD-style checks and mapping coverage."""
    from rich.progress import Progress

    from sndskit.engines.datasource import open_data
    from sndskit.omop.etl.runner import EtlOptions, export_duckdb, run_etl

    code_map, summary, version = _etl_code_map(mappings, db)
    options = EtlOptions(
        quality_filters=_one_of(
            quality_filters, ("cnam", "scalpel", "minimal", "none"), "--quality-filters"
        ),
        flux_lag_months=flux_lag_months,
        finess_duplicates=_one_of(
            finess_duplicates, ("finess_46", "finess_166", "none"), "--finess-duplicates"
        ),
        vocabulary_version=version,
        threshold=threshold,
    )
    vocab_path = db or (default_vocabulary_db() if default_vocabulary_db().exists() else None)
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("OMOP ETL", total=None)

        def progress(name: str, i: int, n: int) -> None:
            bar.update(task, description=name, completed=i, total=n)

        manifest = run_etl(
            open_data(data), out, code_map=code_map, options=options,
            engine=_one_of(engine, ("duckdb", "spark"), "--engine"),
            spark_master=spark_master, progress=progress, vocab_db=vocab_path,
            extra_manifest={"code_map": summary},
        )  # fmt: skip
    if duckdb_out:
        console.print(f"wrote {export_duckdb(out, duckdb_out)}")
    _print_etl_summary(out, manifest)


def _etl_code_map(mappings: Path | None, db: Path | None):
    """The ETL's source → standard code map from the mapping store and the vocabulary."""
    from sndskit.omop.etl.codemap import prepare_code_map, vocabulary_version

    store = mappings or default_mapping_store()
    rows = _load(store, None, None) if store.exists() else []
    con = _vocab_or_none(db)
    try:
        code_map, summary = prepare_code_map(
            rows, _source_ids(db), vocab=con, store=store_path() if store_path().exists() else None
        )
        return code_map, summary, vocabulary_version(con)
    finally:
        if con is not None:
            con.close()


def _print_etl_summary(out: Path, manifest: dict) -> None:
    """Rows per CDM table, the check overview and each failed check (FR/EN)."""
    table = Table("table", "rows")
    for name, count in manifest["rows"].items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    overview = manifest["quality"]
    console.print(
        f"• contrôles / checks: {overview['countPassed']} OK, "
        f"{overview['countOverallFailed']} échec / failed, "
        f"{overview['countNotApplicable']} n/a — {out / '_etl' / 'dqd.html'}"
    )
    import json

    document = json.loads((out / "_etl" / "dqd.json").read_text(encoding="utf-8"))
    for check in document["CheckResults"]:
        if check.get("failed"):
            share = check["pctViolatedRows"]
            shown = "masqué / masked" if share is None else f"{100 * share:.1f} %"
            console.print(
                f"  ✗ {check['checkName']} {check['cdmTableName']}.{check['cdmFieldName']}: "
                f"{shown} (seuil / threshold {check['thresholdValue']} %)"
            )
    for warning in manifest["warnings"]:
        err_console.print(f"[yellow]! {warning}[/yellow]")
