"""`sndskit catalog …`: browse SNDS tables, variables, join paths and nomenclatures."""

from __future__ import annotations

import functools
from typing import Annotated

import typer
from rich.table import Table

from sndskit.catalog import Catalog, get_catalog, get_nomenclature_values
from sndskit.catalog.empty import explain_empty_field_search
from sndskit.catalog.export import describe_table, join_path_as_dict, tables_overview
from sndskit.cli.render import console, err_console, print_json, sample_notice

app = typer.Typer(no_args_is_help=True, help="Browse the SNDS catalogue: tables, variables, joins.")


@functools.cache
def _catalog() -> Catalog:
    """The store's catalogue, with the sample notice printed once per process."""
    catalog = get_catalog()
    sample_notice(catalog.is_sample)
    return catalog


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("tables")
def tables_command(
    product: Annotated[
        str | None, typer.Option(help="Only this product (DCIR, PMSI MCO, …).")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """List tables with their product, title and size."""
    catalog = _catalog()
    rows = tables_overview(catalog, product)
    if json_output:
        return print_json(rows)
    table = Table("product", "table", "title", "fields", "keys", title=f"{len(rows)} tables")
    for row in rows:
        table.add_row(
            row["product"],
            row["name"],
            row["title"],
            str(row["n_fields"]),
            ", ".join(row["primary_key"]),
        )
    console.print(table)


@app.command("describe")
def describe_command(
    name: Annotated[str, typer.Argument(help="Table name (T_MCO19B and T_MCOaaB both work).")],
    json_output: JsonFlag = False,
) -> None:
    """Show a table: its variables, types, nomenclatures and keys."""
    catalog = _catalog()
    info = describe_table(catalog, name)
    if json_output:
        return print_json(info)
    console.print(f"[bold]{info['name']}[/] — {info['title']}  [dim]({info['product']})[/]")
    if info["template"] != info["name"]:
        console.print(f"schema template: {info['template']}, year {info['year']}")
    if info["observation"]:
        console.print(f"[dim]{info['observation']}[/]")
    table = Table("variable", "type", "nomenclature", "description")
    for f in info["fields"]:
        shown_type = (
            f["type"] if f["type"] == f["storage_type"] else f"{f['type']}→{f['storage_type']}"
        )
        table.add_row(f["name"], shown_type, f["nomenclature"] or "", f["description"])
    console.print(table)
    if info["primary_key"]:
        console.print(f"primary key: {', '.join(info['primary_key'])}")
    for fk in info["foreign_keys"]:
        console.print(
            f"foreign key: ({', '.join(fk['columns'])}) → {fk['reference_table']}"
            f"({', '.join(fk['reference_columns'])})"
        )


@app.command("search")
def search_command(
    text: Annotated[str, typer.Argument(help="Variable name or words of its description.")],
    product: Annotated[str | None, typer.Option(help="Only tables of this product.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Maximum number of hits.")] = 20,
    json_output: JsonFlag = False,
) -> None:
    """Find variables by name or description (accent- and case-insensitive, ranked)."""
    catalog = _catalog()
    hits = catalog.search_fields(text, limit=limit, product=product)
    if not hits:
        why = explain_empty_field_search(catalog, text, product=product)
        if json_output:
            print_json([])
            return err_console.print(why.render(), markup=False)
        return console.print(f"“{text}” : aucune variable / no variable\n{why.render()}")
    if json_output:
        return print_json([hit.__dict__ for hit in hits])
    table = Table("score", "table", "variable", "description", "matched on", title=f"“{text}”")
    for hit in hits:
        table.add_row(f"{hit.score:.0f}", hit.table, hit.field, hit.description, hit.matched_on)
    console.print(table)


@app.command("join")
def join_command(
    left: Annotated[str, typer.Argument(help="First table.")],
    right: Annotated[str, typer.Argument(help="Second table.")],
    dialect: Annotated[str, typer.Option(help="SQL dialect of the example query.")] = "duckdb",
    json_output: JsonFlag = False,
) -> None:
    """Shortest join path between two tables over the foreign-key graph."""
    catalog = _catalog()
    path = join_path_as_dict(catalog, left, right, dialect=dialect)
    if json_output:
        return print_json(path)
    for i, hop in enumerate(path["hops"], start=1):
        on = " AND ".join(f"{c['left']} = {c['right']}" for c in hop["on"])
        console.print(f"{i}. [bold]{hop['left']}[/] → [bold]{hop['right']}[/] on {on}")
        for note in hop["notes"]:
            console.print(f"   [yellow]note:[/] {note}")
    console.print(f"\n[dim]{path['sql']}[/]")


@app.command("nomenclature")
def nomenclature_command(
    name: Annotated[str, typer.Argument(help="Reference table name, e.g. IR_ALD_V.")],
    limit: Annotated[int, typer.Option(min=1, help="Maximum number of rows shown.")] = 50,
    json_output: JsonFlag = False,
) -> None:
    """Show the values of a reference table (nomenclature)."""
    catalog = _catalog()
    info, columns, rows = get_nomenclature_values(name, limit=limit, catalog=catalog)
    if json_output:
        return print_json(
            {
                "name": info.name,
                "title": info.title,
                "folder": info.folder,
                "code_column": info.code_column,
                "label_column": info.label_column,
                "total_rows": info.rows,
                "rows": [dict(zip(columns, row, strict=True)) for row in rows],
            }
        )
    table = Table(*columns, title=f"{info.name} — {info.title} ({len(rows)} of {info.rows} rows)")
    for row in rows:
        table.add_row(*(value or "" for value in row))
    console.print(table)


@app.command("tour")
def tour_command() -> None:
    """A short guided tour of the catalogue (used by `make demo`)."""
    catalog = _catalog()
    console.rule("[bold]SNDS catalogue tour")
    counts = {}
    for t in catalog.tables.values():
        counts[t.product] = counts.get(t.product, 0) + 1
    n_fields = sum(len(t.fields) for t in catalog.tables.values())
    n_fks = sum(len(t.foreign_keys) for t in catalog.tables.values())
    console.print(f"{len(catalog.tables)} tables, {n_fields} variables, {n_fks} foreign keys")
    console.print(", ".join(f"{p} ({n})" for p, n in sorted(counts.items())))
    console.rule("Which table holds the CIP13 code of a dispensed drug?  catalog search")
    search_command("code CIP 13", limit=5)
    console.rule("How do I join pharmacy lines to the beneficiary?  catalog join")
    join_command("ER_PHA_F", "IR_BEN_R")
    console.rule("Associated diagnoses of 2019 stays  catalog join T_MCO19D T_MCO19B")
    join_command("T_MCO19D", "T_MCO19B")
    console.rule("Long-term conditions list  catalog nomenclature IR_ALD_V")
    nomenclature_command("IR_ALD_V", limit=8)
