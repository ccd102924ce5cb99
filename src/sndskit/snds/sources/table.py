"""The event-source table of ``docs/cohorts.md``, generated from the registry (a test fails
when the page and the registry differ; ``SNDSKIT_UPDATE_DOCS=1`` rewrites the page)."""

from __future__ import annotations

from sndskit.snds.filters import get_filters
from sndskit.snds.sources import SOURCES

BEGIN = "<!-- event sources: generated from sndskit.snds.sources, do not edit by hand -->"
END = "<!-- end of event sources -->"


def render_sources_table() -> str:
    """One Markdown row per source: labels, tables, code columns, options, date, filters."""
    filters = get_filters()
    lines = [
        "| source | label (fr / en) | where | code list vocabulary | options | date "
        "| quality filters |",
        "|---|---|---|---|---|---|---|",
    ]
    for source in SOURCES.values():
        vocabularies = ", ".join(
            f"{v} ("
            + ", ".join(
                f"`{loc.column.table}.{loc.column.column}`"
                for loc in source.code_locations
                if loc.column.vocabulary == v
            )
            + ")"
            for v in source.vocabularies
        )
        options = ", ".join(
            f"`{name}`: {' / '.join(option.allowed)}" for name, option in source.options.items()
        )
        applied = ", ".join(f"`{f.id}`" for f in filters.values() if source.name in f.applies_to)
        lines.append(
            f"| `{source.name}` | {source.label_fr} / {source.label_en} | {source.where} "
            f"| {vocabularies or '—'} | {options or '—'} | {source.date} | {applied or '—'} |"
        )
    return "\n".join([BEGIN, *lines, END])


def replace_sources_table(page: str) -> str:
    """``page`` with its generated table replaced by the registry's."""
    start, end = page.index(BEGIN), page.index(END) + len(END)
    return page[:start] + render_sources_table() + page[end:]
