"""Write the alignment-quality report: ``quality.json``, a self-contained ``quality.html``
(plots embedded as base64 PNG), ``quality.md`` and ``review_sample.csv`` — each atomically.

Plots need matplotlib (``pip install matplotlib``); without it the HTML report keeps every
table and says that plots were skipped.

Record counts (per unmapped code, per vocabulary) go through :mod:`sndskit.disclosure` before
any of the four files is written: counts of 1–threshold and the cells that would give them
back are masked (``masked``), with an audited pattern; the threshold is stated in each file.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from sndskit.disclosure import DEFAULT_THRESHOLD, MASK, Problem, protect, threshold_note
from sndskit.io import write_json_atomic, write_text_atomic
from sndskit.omop.review import write_review_sample

RECORDS = ["records_total", "records_mapped", "records_approved", "records_standard"]

STATUS_COLOURS = {
    "APPROVED": "#2e7d32",
    "UNCHECKED": "#9e9e9e",
    "AUTO_MAPPED": "#1976d2",
    "FLAGGED": "#f9a825",
    "INVALID_TARGET": "#c62828",
}


def _pct(value: float | str | None) -> str:
    if value == MASK:
        return MASK
    return "—" if value is None else f"{100 * value:.1f} %"


def _num(value) -> str:
    if value == MASK:
        return MASK
    return "—" if value is None else f"{value:,}".replace(",", " ")


# -- plots --------------------------------------------------------------------------------------
def _figure_png(draw) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=110)
    try:
        draw(ax)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plot_coverage(report: dict):
    rows = report["coverage"]

    def draw(ax):
        labels = [r["vocabulary"] for r in rows]
        series = [
            ("codes mapped", "share_codes_mapped", "#90caf9"),
            ("codes approved", "share_codes_approved", "#1976d2"),
            ("records mapped", "share_records_mapped", "#a5d6a7"),
            ("records approved", "share_records_approved", "#2e7d32"),
        ]
        width = 0.2
        for i, (name, key, colour) in enumerate(series):
            values = [100 * (r[key] if isinstance(r[key], float | int) else 0) for r in rows]
            ax.bar(
                [x + (i - 1.5) * width for x in range(len(rows))],
                values,
                width,
                label=name,
                color=colour,
            )
        ax.set_xticks(range(len(rows)), labels)
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        ax.set_title("Share of codes and of records mapped, per source vocabulary")
        ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.12))

    return _figure_png(draw) if rows else None


def _plot_distribution(report: dict, key: str, title: str):
    data = report[key]

    def draw(ax):
        vocabularies = sorted(data)
        values = sorted({v for counts in data.values() for v in counts})
        left = [0.0] * len(vocabularies)
        for value in values:
            counts = [data[v].get(value, 0) for v in vocabularies]
            totals = [sum(data[v].values()) or 1 for v in vocabularies]
            shares = [100 * c / t for c, t in zip(counts, totals, strict=True)]
            ax.barh(vocabularies, shares, left=left, label=value, color=STATUS_COLOURS.get(value))
            left = [a + b for a, b in zip(left, shares, strict=True)]
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of mapping rows")
        ax.set_title(title)
        ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.2))

    return _figure_png(draw) if data else None


def _plot_unmapped(report: dict):
    shown = [r for r in report["top_unmapped"] if r["records"] != MASK]
    rows = sorted(shown, key=lambda r: -r["records"])[:15]

    def draw(ax):
        labels = [f"{r['vocabulary']} {r['code']}" for r in rows][::-1]
        ax.barh(labels, [r["records"] for r in rows][::-1], color="#c62828")
        ax.set_xlabel("records")
        ax.set_title("Most frequent unmapped codes")
        ax.tick_params(axis="y", labelsize=7)

    return _figure_png(draw) if rows else None


def _plot_drift(report: dict):
    drift = report.get("drift")

    def draw(ax):
        names = ["added", "removed", "retargeted", "codes_new", "codes_dropped"]
        ax.bar(
            names,
            [drift[n] for n in names],
            color=["#2e7d32", "#c62828", "#f9a825", "#90caf9", "#9e9e9e"],
        )
        ax.set_ylabel("source codes")
        ax.set_title("Changes since the previous mapping version")

    return _figure_png(draw) if drift else None


def _plot_precision(report: dict):
    review = report.get("review")

    def draw(ax):
        strata = [s for s in review["strata"] if s["estimate"] is not None]
        overall = review["precision"]
        names = [s["stratum"] for s in strata] + ["overall"]
        est = [s["estimate"] for s in strata] + [overall["estimate"]]
        low = [s["low"] for s in strata] + [overall["low"]]
        high = [s["high"] for s in strata] + [overall["high"]]
        ax.errorbar(
            range(len(names)),
            [100 * e for e in est],
            yerr=[
                [100 * (e - lo) for e, lo in zip(est, low, strict=True)],
                [100 * (hi - e) for e, hi in zip(est, high, strict=True)],
            ],
            fmt="o",
            capsize=4,
            color="#1976d2",
        )
        ax.set_xticks(range(len(names)), names, rotation=20, fontsize=7)
        ax.set_ylim(0, 100)
        ax.set_ylabel("precision %")
        ax.set_title("Estimated precision (95 % Wilson interval)")

    return _figure_png(draw) if review and review["precision"]["estimate"] is not None else None


# -- text ------------------------------------------------------------------------------------
def headline(report: dict) -> list[str]:
    """One-line findings a steering committee reads first."""
    lines = []
    for r in report["coverage"]:
        records = (
            f", {_pct(r['share_records_mapped'])} of {_num(r['records_total'])} records"
            if r["records_total"] is not None
            else ""
        )
        lines.append(
            f"{r['vocabulary']}: {_pct(r['share_codes_mapped'])} of {_num(r['codes'])} "
            f"codes mapped ({_pct(r['share_codes_approved'])} approved){records}"
        )
    targets = report.get("targets")
    if targets:
        lines.append(
            f"targets: {targets['unknown']} unknown, {targets['non_standard']} non-standard,"
            f" {targets['deprecated']} deprecated of {targets['checked']} checked"
        )
    for d in report.get("domains") or []:
        if d["share_conforming"] is not None:
            lines.append(f"{d['vocabulary']} domain conformance: {_pct(d['share_conforming'])}")
    h = report["hierarchy"]
    if h["checked"]:
        lines.append(
            f"hierarchy: {h['checked'] - h['consistent']} of {h['checked']} children mapped "
            "outside their parent's target"
        )
    drift = report.get("drift")
    if drift:
        lines.append(
            f"since last version: +{drift['added']} mapped, −{drift['removed']}, "
            f"{drift['retargeted']} retargeted"
        )
    review = report.get("review")
    if review and review["precision"]["estimate"] is not None:
        p = review["precision"]
        kappa = review["kappa"]["kappa"]
        lines.append(
            f"precision {_pct(p['estimate'])} (95 % CI {_pct(p['low'])}–{_pct(p['high'])},"
            f" n = {p['n']})" + (f", Cohen's κ = {kappa:.2f}" if kappa is not None else "")
        )
    else:
        lines.append(
            f"precision: awaiting review of the {report['review_sample']['size']}-row "
            "sample (review_sample.csv)"
        )
    return lines


def markdown(report: dict) -> str:
    note = report.get("disclosure", {}).get("note", "")
    out = ["# OMOP alignment quality", "", f"Generated {report['generated_at']}. {note}", ""]
    out += [f"- {line}" for line in headline(report)] + ["", "## Coverage", ""]
    out += [
        "| vocabulary | codes | mapped | approved | valid standard | records | records mapped |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["coverage"]:
        out.append(
            f"| {r['vocabulary']} | {_num(r['codes'])} | {_pct(r['share_codes_mapped'])} | "
            f"{_pct(r['share_codes_approved'])} | {_pct(r.get('share_codes_standard'))} | "
            f"{_num(r['records_total'])} | "
            f"{_pct(r['share_records_mapped'])} |"
        )
    if report["top_unmapped"]:
        out += [
            "",
            "## Most frequent unmapped codes",
            "",
            "| vocabulary | code | name | records |",
            "|---|---|---|---:|",
        ]
        out += [
            f"| {r['vocabulary']} | {r['code']} | {r['name']} | {_num(r['records'])} |"
            for r in report["top_unmapped"][:20]
        ]
    c = report["cardinality"]
    out += [
        "",
        "## Suspicious mappings",
        "",
        f"- one-to-many: {c['one_to_many']} codes; many-to-one: {c['many_to_one_targets']} targets",
        f"- hierarchy inconsistencies: {len(report['hierarchy']['examples'])}",
    ]
    out += [
        f"  - {e['code']} → {e['targets']} not below {e['ancestor']} → {e['ancestor_targets']}"
        for e in report["hierarchy"]["examples"][:10]
    ]
    return "\n".join(out) + "\n"


def _table(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return "<p class='muted'>none</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{100 * value:.1f} %" if 0 <= value <= 1 else f"{value:.3g}"
    if isinstance(value, list | dict):
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return "" if value is None else str(value)


def _plots_html(report: dict) -> str:
    plots = [
        _plot_coverage(report),
        _plot_distribution(report, "status", "Review status"),
        _plot_distribution(report, "equivalence", "Equivalence"),
        _plot_unmapped(report),
        _plot_drift(report),
        _plot_precision(report),
    ]
    if not any(plots):
        return "<p class='muted'>plots skipped: matplotlib is not installed</p>"
    return "".join(f"<img alt='plot' src='data:image/png;base64,{p}'>" for p in plots if p)


COVERAGE_COLUMNS = [
    "vocabulary",
    "codes",
    "share_codes_mapped",
    "share_codes_approved",
    "share_codes_standard",
    "records_total",
    "share_records_mapped",
    "share_records_approved",
]


def _sections(report: dict) -> list[tuple[str, str]]:
    targets = report.get("targets") or {"examples": {}}
    domain_rows = [
        {**e, "vocabulary": d["vocabulary"]}
        for d in report.get("domains") or []
        for e in d["examples"]
    ]
    cardinality = report["cardinality"]["examples"]
    sections = [
        ("Coverage", _table(report["coverage"], COVERAGE_COLUMNS)),
        (
            "Most frequent unmapped codes",
            _table(
                report["top_unmapped"],
                ["vocabulary", "code", "name", "records", "share_of_records"],
            ),
        ),
        (
            "Targets not standard, deprecated or unknown",
            _table(
                [{"problem": k, **r} for k, rows in targets["examples"].items() for r in rows],
                ["problem", "vocabulary", "code", "target_concept_id", "target_name", "status"],
            ),
        ),
        (
            "Targets outside the expected domains",
            _table(
                domain_rows, ["vocabulary", "code", "target_concept_id", "target_name", "domain"]
            ),
        ),
        (
            "Children mapped outside their parent's target",
            _table(
                report["hierarchy"]["examples"], ["code", "targets", "ancestor", "ancestor_targets"]
            ),
        ),
        ("One-to-many", _table(cardinality["one_to_many"], ["code", "targets"])),
        (
            "Many-to-one",
            _table(cardinality["many_to_one"], ["target_concept_id", "count", "sources"]),
        ),
    ]
    if report.get("review"):
        columns = ["stratum", "population", "reviewed", "correct", "estimate", "low", "high"]
        sections.append(("Review strata", _table(report["review"]["strata"], columns)))
    return sections


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;font-size:13px;margin-bottom:1em}"
    "td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}th{background:#f3f3f3}"
    "img{max-width:100%;display:block;margin:1em 0}.muted{color:#888}"
    "ul.key{background:#f5f9ff;border-left:4px solid #1976d2;padding:.8em 2em}"
)


def html_report(report: dict) -> str:
    cards = "".join(f"<li>{html.escape(line)}</li>" for line in headline(report))
    body = "".join(f"<h2>{html.escape(t)}</h2>{content}" for t, content in _sections(report))
    note = html.escape(report.get("disclosure", {}).get("note", ""))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>OMOP alignment "
        f"quality</title><style>{STYLE}</style></head><body><h1>OMOP alignment quality</h1>"
        f"<p class='muted'>generated {html.escape(report['generated_at'])} — {note}</p>"
        f"<ul class='key'>{cards}</ul>{_plots_html(report)}{body}</body></html>\n"
    )


def protect_report(report: dict, threshold: int = DEFAULT_THRESHOLD, unsafe: bool = False) -> dict:
    """A copy of the report with small record counts, and the cells that would give them back,
    masked (audited pattern over per-code counts and per-vocabulary totals)."""
    problem, coverage_keys, code_keys = Problem(), [], []
    for row in report["coverage"]:
        v = row["vocabulary"]
        keys = {
            c: problem.add(("coverage", v, c), row[c], cost=10.0, link=("coverage", v, c))
            for c in RECORDS
            if row.get(c) is not None
        }
        coverage_keys.append(keys)
        if "records_total" in keys and "records_mapped" in keys:
            gap = problem.add_gap(keys["records_total"], keys["records_mapped"], ("unmapped", v))
            listed = [r for r in report["top_unmapped"] if r["vocabulary"] == v]
            parts = [problem.add(("code", v, r["code"]), r["records"]) for r in listed]
            code_keys += parts
            if len(listed) < 20 or sum(r["records"] for r in listed) == problem.cells[gap].value:
                problem.add_sum(gap, parts)
            else:
                rest = problem.cells[gap].value - sum(r["records"] for r in listed)
                problem.add_sum(gap, [*parts, problem.add(("rest", v), rest, published=False)])
            for other in ("records_approved", "records_standard"):
                if other in keys:
                    problem.add_gap(keys["records_mapped"], keys[other], ("not " + other, v))
    hidden = protect(problem, threshold, unsafe=unsafe).suppressed
    out = dict(report)
    out["coverage"] = []
    for row, keys in zip(report["coverage"], coverage_keys, strict=True):
        row = dict(row)
        for column, key in keys.items():
            if key in hidden:
                row[column] = MASK
                shares = RECORDS[1:] if column == "records_total" else [column]
                row |= {f"share_{c}": MASK for c in shares if f"share_{c}" in row}
        out["coverage"].append(row)
    listed = [
        r for r in report["top_unmapped"] if ("code", r["vocabulary"], r["code"]) in problem.cells
    ]
    masked = [
        {**r, "records": MASK, "share_of_records": MASK}
        for r in listed
        if ("code", r["vocabulary"], r["code"]) in hidden
    ]
    visible = [r for r in listed if ("code", r["vocabulary"], r["code"]) not in hidden]
    out["top_unmapped"] = visible + sorted(masked, key=lambda r: (r["vocabulary"], r["code"]))
    out["disclosure"] = {
        "threshold": threshold,
        "note": threshold_note(threshold),
        "masked_cells": len(hidden),
    }
    return out


def write_report(
    report: dict,
    out_dir: str | Path,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    unsafe_threshold: bool = False,
) -> list[Path]:
    """Write the four outputs into ``out_dir`` (record counts masked); return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = protect_report(
        {k: v for k, v in report.items() if not k.startswith("_")}, threshold, unsafe_threshold
    )
    paths = [
        write_json_atomic(out_dir / "quality.json", data),
        write_text_atomic(out_dir / "quality.html", html_report(data)),
        write_text_atomic(out_dir / "quality.md", markdown(data)),
        write_review_sample(report.get("_sample_rows", []), out_dir / "review_sample.csv"),
    ]
    return paths


__all__ = ["headline", "html_report", "markdown", "protect_report", "write_report"]
