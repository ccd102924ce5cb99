"""`sndskit codes …`: find medical codes in every SNDS vocabulary, in French."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from sndskit.cli.render import console, err_console, print_json
from sndskit.terminology import (
    get_ancestors,
    get_concept,
    get_descendants,
    get_related,
    search_concepts,
    summarise_vocabularies,
)
from sndskit.terminology.empty import explain_empty_search

app = typer.Typer(no_args_is_help=True, help="Find codes: CIM-10, CCAM, ATC, CIP13, UCD, NABM …")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _split(values: str | None) -> list[str] | None:
    return [v for v in values.split(",") if v.strip()] if values else None


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="French words, an abbreviation or a code pattern.")],
    vocab: Annotated[str | None, typer.Option(help="Comma-separated vocabularies.")] = None,
    level: Annotated[str | None, typer.Option(help="Comma-separated hierarchy levels.")] = None,
    valid_at: Annotated[str | None, typer.Option(help="Only codes valid on this date.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Maximum number of hits.")] = 20,
    json_output: JsonFlag = False,
) -> None:
    """Search codes: `sndskit codes search "avc" --vocab CIM10`, `… "E10-E14"`, `… "A10B%"`."""
    levels = [int(n) for n in _split(level)] if level else None
    day = date.fromisoformat(valid_at) if valid_at else None
    hits = search_concepts(
        query, vocabularies=_split(vocab), levels=levels, valid_at=day, limit=limit
    )
    if not hits:
        why = explain_empty_search(query, vocabularies=_split(vocab), levels=levels, valid_at=day)
        if json_output:
            print_json([])
            return err_console.print(why.render(), markup=False)
        return console.print(f"“{query}” : aucun code / no code\n{why.render()}", markup=False)
    if json_output:
        return print_json([hit.model_dump(mode="json") for hit in hits])
    table = Table("vocabulary", "code", "label", "score", "matched by", title=f"“{query}”")
    for hit in hits:
        why = (
            hit.matched_by
            if hit.matched_text == hit.label
            else f"{hit.matched_by}: {hit.matched_text}"
        )
        table.add_row(hit.vocabulary, hit.code, hit.label, f"{hit.score:.0f}", why)
    console.print(table)


@app.command("show")
def show_command(
    code: Annotated[str, typer.Argument(help="The code (E11.9 and E119 both work).")],
    vocab: Annotated[str, typer.Option(help="Its vocabulary, e.g. CIM10.")],
    descendants: Annotated[
        bool, typer.Option("--descendants", help="List every descendant.")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """Show one code: label, ancestors, relations, and optionally its descendants."""
    concept = get_concept(vocab, code)
    ancestors = get_ancestors(vocab, concept.code)
    related = get_related(concept.vocabulary, concept.code)
    below = get_descendants(vocab, concept.code) if descendants else None
    if json_output:
        return print_json(
            {
                **concept.model_dump(mode="json", exclude={"score", "matched_by", "matched_text"}),
                "ancestors": [
                    a.model_dump(mode="json", include={"code", "label", "level"}) for a in ancestors
                ],
                "relations": related,
                "descendants": None
                if below is None
                else [
                    d.model_dump(mode="json", include={"code", "label", "level", "parent"})
                    for d in below
                ],
            }
        )
    console.print(f"[bold]{concept.vocabulary} {concept.code}[/] — {concept.label}")
    if ancestors:
        console.print("in: " + " › ".join(f"{a.code} {a.label}" for a in reversed(ancestors)))
    if concept.valid_from or concept.valid_to:
        console.print(f"valid: {concept.valid_from or '…'} → {concept.valid_to or '…'}")
    if related:
        table = Table("relation", "vocabulary", "code", "label", "inferred", title="relations")
        for r in related[:50]:
            table.add_row(
                r["relation"],
                r["vocabulary"],
                r["code"],
                r["label"] or "",
                "yes" if r["inferred"] else "",
            )
        console.print(table)
        if len(related) > 50:
            console.print(f"… {len(related) - 50} more (use --json)")
    if below is not None:
        table = Table("code", "label", "level", title=f"{len(below)} descendants")
        for d in below:
            table.add_row(d.code, d.label, str(d.level))
        console.print(table)


@app.command("vocabularies")
def vocabularies_command(json_output: JsonFlag = False) -> None:
    """Concept counts per vocabulary, source versions and ATC-link coverage of drugs."""
    summary = summarise_vocabularies()
    if json_output:
        return print_json(summary)
    table = Table("vocabulary", "concepts", "source version", "ATC link")
    for v in summary:
        atc = v.get("atc_link")
        link = (
            (
                f"{atc['share_with_atc']:.1%} ({atc['from_referential']} referential, "
                f"{atc['inferred']} inferred)"
            )
            if atc
            else ""
        )
        table.add_row(v["vocabulary"], f"{v['concepts']:,}", v["version"], link)
    console.print(table)
