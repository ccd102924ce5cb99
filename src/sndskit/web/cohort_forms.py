"""Cohort spec ⇄ the builder form's fields (the spec's own validation does the checking).

The form covers the common shape of a study population: up to three entry events, their
occurrence rule and index; an age band and a sex; up to three exclusion criteria on events
in a window; washout; exit; SNDS handling. Anything else is written in YAML.
"""

from __future__ import annotations

from typing import Any

import yaml

from sndskit.cohorts.spec import CohortSpec
from sndskit.specs import parse_spec

N_EVENTS = 3
N_EXCLUSIONS = 3
ROLES = ("DP", "DR", "DAS")


def _text(form: Any, key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _int(form: Any, key: str) -> int | str | None:
    """An integer when the field holds one, the raw text otherwise (the spec rejects it)."""
    text = _text(form, key)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _event(form: Any, prefix: str) -> dict[str, Any] | None:
    source = _text(form, f"{prefix}-source")
    if not source:
        return None
    event: dict[str, Any] = {"source": source}
    if _text(form, f"{prefix}-codelist"):
        event["codelist"] = _text(form, f"{prefix}-codelist")
    roles = [r for r in form.getlist(f"{prefix}-roles") if r in ROLES]
    if source == "hospital_diagnosis" and roles and len(roles) < len(ROLES):
        event["roles"] = roles
    return event


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def spec_data(form: Any) -> dict[str, Any]:
    """The spec as plain data, in the order a person would write the YAML."""
    events = [e for k in range(N_EVENTS) if (e := _event(form, f"entry-{k}"))]
    data: dict[str, Any] = {
        "name": _text(form, "name"),
        "description": _text(form, "description"),
        **{key: _text(form, key) for key in ("author", "version") if _text(form, key)},
        "period": {"start": _text(form, "period_start"), "end": _text(form, "period_end")},
        "entry": {
            "events": events,
            "occurrences": _drop_none(
                {
                    "at_least": _int(form, "at_least") or 1,
                    "distinct_dates": form.get("distinct_dates") == "on",
                    "within_days": _int(form, "within_days"),
                }
            ),
            "index": _text(form, "index") or "first",
        },
    }
    inclusion = []
    if _int(form, "age_min") is not None or _int(form, "age_max") is not None:
        age = _drop_none({"min": _int(form, "age_min"), "max": _int(form, "age_max")})
        inclusion.append({"name": _text(form, "age_name") or "age", "age": age})
    if _text(form, "sex"):
        inclusion.append({"name": "sex", "sex": _text(form, "sex")})
    if inclusion:
        data["inclusion"] = inclusion
    exclusion = []
    for k in range(N_EXCLUSIONS):
        event = _event(form, f"excl-{k}")
        if event:
            exclusion.append(
                {
                    "name": _text(form, f"excl-{k}-name") or f"exclusion {k + 1}",
                    "events": [event],
                    "window": {
                        "start": _int(form, f"excl-{k}-start"),
                        "end": _int(form, f"excl-{k}-end"),
                    },
                }
            )
    if exclusion:
        data["exclusion"] = exclusion
    if _int(form, "washout_days") is not None:
        data["washout_days"] = _int(form, "washout_days")
    data["exit"] = _drop_none(
        {
            "at": _text(form, "exit_at") or "end_of_study",
            "days": _int(form, "exit_days"),
            "gap_days": _int(form, "exit_gap_days"),
        }
    )
    data["snds"] = _drop_none(
        {
            "quality_filters": _text(form, "quality_filters") or "cnam",
            "flux_lag_months": _int(form, "flux_lag_months"),
            "finess_duplicates": _text(form, "finess_duplicates") or "finess_46",
        }
    )
    return data


def spec_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def spec_from_form(form: Any) -> tuple[CohortSpec, str]:
    text = spec_yaml(spec_data(form))
    return parse_spec(text, CohortSpec, source="cohort"), text


def form_values(spec: CohortSpec) -> dict[str, Any]:
    """What the form shows for ``spec`` (criteria it cannot show are listed as dropped)."""
    age = next((c for c in spec.inclusion if c.age), None)
    sex = next((c for c in spec.inclusion if c.sex), None)
    exclusions = [c for c in spec.exclusion if c.events and len(c.events) == 1]
    dropped = [c.name for c in spec.inclusion if c.events] + [
        c.name for c in spec.exclusion if c not in exclusions
    ]
    return {
        "spec": spec,
        "events": [*spec.entry.events, *[None] * N_EVENTS][:N_EVENTS],
        "age": age,
        "sex": sex.sex if sex else "",
        "exclusions": [*exclusions, *[None] * N_EXCLUSIONS][:N_EXCLUSIONS],
        "dropped": dropped,
    }
