"""The automatic review of an access request: findings with the rule, its source and the
evidence, each check described in ``resources/access/checks.yaml``.

A study passes when no finding has the ``error`` severity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sndskit.access.documents import match_documents, read_document_text
from sndskit.access.edb import Edb
from sndskit.access.rules import (
    check_language,
    get_checks,
    get_documents,
    get_purposes,
    get_route,
    identifier_kinds,
    label,
)
from sndskit.text import normalise_text

MIN_PUBLIC_INTEREST_CHARS = 50
MIN_SMALL_CELL_THRESHOLD = 11  # primer §6: HDH returns no count below 11


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # error, warning, info
    rule: str
    source: str
    message: str
    evidence: dict[str, Any]


@dataclass
class Review:
    findings: list[Finding]
    lang: str

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def checks(self) -> set[str]:
        return {f.check for f in self.findings}

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "findings": [asdict(f) for f in self.findings]}


class _Reviewer:
    def __init__(self, edb: Edb, lang: str) -> None:
        self.edb = edb
        self.spec = edb.spec
        self.route = get_route(self.spec.route)
        self.lang = lang
        self.findings: list[Finding] = []

    def add(self, check: str, **evidence: Any) -> None:
        meta = get_checks()[check]
        self.findings.append(
            Finding(
                check=check,
                severity=meta["severity"],
                rule=meta[self.lang].format(**evidence),
                source=meta["source"],
                message=meta[f"message_{self.lang}"].format(**evidence),
                evidence=evidence,
            )
        )

    def minimisation(self) -> None:
        declared = self.spec.objective_ids()
        used: set[str] = {o for c in self.spec.cohorts for o in c.objectives}
        for requested, (table, column) in zip(self.spec.variables, self.edb.requested, strict=True):
            served = [o for o in requested.objectives if o in declared]
            used.update(served)
            in_cohort = bool(self.edb.tables[table].variables[column].cohorts)
            if not served and not in_cohort:
                cited = ", ".join(requested.objectives) or label("none", self.lang)
                self.add("unused_variable", variable=requested.variable, cited=cited)
        for objective in sorted(declared - used):
            self.add("idle_objective", objective=objective)

    def identifiers(self) -> None:
        found = self.edb.identifying()
        declared = {i.kind: i for i in self.spec.identifiers}
        kinds = sorted(set(found) | set(declared))
        names = identifier_kinds()
        for kind in kinds:
            entry = declared.get(kind)
            if entry is None or not entry.justification.strip():
                variables = ", ".join(f"{v.table}.{v.column}" for v in found.get(kind, []))
                self.add(
                    "identifier_not_justified",
                    kind=names[kind][self.lang],
                    variables=variables or "—",
                )
            elif not entry.degradation.strip():
                self.add(
                    "identifier_no_degradation",
                    kind=names[kind][self.lang],
                    suggestion=names[kind][f"degrade_{self.lang}"],
                )
        shown = ", ".join(names[k][self.lang] for k in kinds)
        if self.route["potential_identifiers"] == "forbidden" and kinds:
            self.add("identifiers_forbidden", route=self.spec.route, kinds=shown)
        elif len(kinds) >= 2:
            self.add("identifiers_crossed", count=len(kinds), kinds=shown)

    def periods(self) -> None:
        spec, first = self.spec, self.edb.first_year()
        current = spec.filed_on.year
        cap = self.route["max_depth_years"]
        if cap is not None and current - first > cap:
            self.add(
                "depth_exceeded",
                max=cap,
                first_year=first,
                depth=current - first,
                current_year=current,
            )
        start = spec.targeting_period.start.year
        if start - first > spec.historical_depth_years:
            self.add(
                "depth_inconsistent",
                declared=spec.historical_depth_years,
                first_year=first,
                start_year=start,
            )
        duration = spec.access_duration_years
        cap = self.route["max_access_years"]
        if cap is not None and duration > cap:
            self.add("access_too_long", duration=f"{duration:g}", max=cap)
        study = (spec.schedule.end - spec.schedule.start).days / 365.25
        if duration > study + 1e-9:
            self.add(
                "access_beyond_study",
                duration=f"{duration:g}",
                study=study,
                start=spec.schedule.start.isoformat(),
                end=spec.schedule.end.isoformat(),
            )

    def route_eligibility(self) -> None:
        spec, route = self.spec, self.route
        matching = [f"{c.spec} ({c.type})" for c in spec.cohorts if c.type != "criteria"]
        matching += [f"{e.name} ({', '.join(e.matching_keys)})" for e in spec.external_data]
        if matching and not route["allows_matching"]:
            self.add("matching_not_allowed", route=spec.route, what="; ".join(matching))
        if spec.reuse_of_existing_data and not route["allows_reuse"]:
            self.add("reuse_not_allowed", route=spec.route)
        if route["needs_design_office"] and spec.design_office is None:
            self.add("design_office_missing", route=spec.route)
        allowed = route["snds_components"]
        if allowed != "any":
            scope = [] if allowed == "none" else list(allowed)
            outside = [c for c in self.edb.components() if c not in scope]
            if outside:
                self.add(
                    "component_not_allowed",
                    route=spec.route,
                    components=", ".join(outside),
                    allowed=", ".join(scope) or label("none", self.lang),
                )

    def purposes(self) -> None:
        spec = self.spec
        texts = {
            "title": spec.title,
            "purpose.description": spec.purpose.description,
            **{f"objectives.{o.id}": o.text for o in spec.objectives},
        }
        for prohibited in get_purposes()["prohibited"].values():
            for where, text in texts.items():
                hit = next(
                    (
                        k
                        for k in prohibited["keywords"]
                        if normalise_text(k) in normalise_text(text)
                    ),
                    None,
                )
                if hit:
                    self.add(
                        "prohibited_purpose",
                        keyword=hit,
                        where=where,
                        purpose=prohibited[self.lang],
                    )
        length = len(spec.purpose.public_interest.strip())
        if length < MIN_PUBLIC_INTEREST_CHARS:
            self.add("public_interest_missing", length=length, minimum=MIN_PUBLIC_INTEREST_CHARS)
        threshold = spec.output_plan.small_cell_threshold
        if threshold is None or threshold < MIN_SMALL_CELL_THRESHOLD:
            self.add("small_cells", threshold=threshold if threshold is not None else "—")

    def documents(self, folder: Path) -> None:
        found = match_documents(folder)
        period = self.spec.targeting_period
        names = [self.spec.title, *(c.name for c in self.spec.controllers)]
        names += sorted({str(period.start.year), str(period.end.year)})
        for key in ("protocol", "summary"):
            for path in found[key]:
                text = normalise_text(" ".join(read_document_text(path).split()))
                if not text:
                    continue
                missing = [n for n in names if normalise_text(" ".join(n.split())) not in text]
                if missing:
                    self.add(
                        "inconsistent_documents", document=path.name, missing="; ".join(missing)
                    )
                if key == "protocol":
                    self._headings(text)

    def _headings(self, text: str) -> None:
        for heading in get_documents()["protocol_headings"]:
            if not any(normalise_text(w) in text for w in heading["words"]):
                self.add("protocol_headings", heading=heading[self.lang])


def review_edb(edb: Edb, documents: Path | None = None, lang: str = "fr") -> Review:
    """Run every check on the EDB (and on the documents folder when given)."""
    reviewer = _Reviewer(edb, check_language(lang))
    reviewer.minimisation()
    reviewer.identifiers()
    reviewer.periods()
    reviewer.route_eligibility()
    reviewer.purposes()
    if documents is not None:
        reviewer.documents(Path(documents))
    return Review(reviewer.findings, lang)


def render_review_markdown(review: Review, title: str) -> str:
    lang = review.lang
    verdict = label("verdict_pass" if review.passed else "verdict_fail", lang)
    lines = [f"# {label('review_title', lang)} — {title}", "", f"**{verdict}**", ""]
    if not review.findings:
        return "\n".join([*lines, label("no_finding", lang)]) + "\n"
    head = ("severity", "finding", "rule", "source")
    lines += ["| " + " | ".join(label(h, lang) for h in head) + " |", "|---" * len(head) + "|"]
    order = {"error": 0, "warning": 1, "info": 2}
    for f in sorted(review.findings, key=lambda f: order.get(f.severity, 3)):
        cells = (label(f.severity, lang), f.message, f.rule, f.source)
        lines.append(
            "| " + " | ".join(" ".join(str(c).split()).replace("|", "\\|") for c in cells) + " |"
        )
    return "\n".join(lines) + "\n"
