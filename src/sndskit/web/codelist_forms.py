"""Code-list spec ⇄ the builder form's fields (no logic of its own: the spec validates).

Fields: ``name description author version source valid_at vocabularies include_descendants
exclude_codes exclude_patterns exclude_terms`` and per rule ``rules-<key>-<field>`` with
fields ``id vocabulary kind values exclude_words relations descendants allow_typos``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from sndskit.codelists.spec import CodelistSpec
from sndskit.specs import parse_spec
from sndskit.web.pages import split_values

RULE_KINDS = ("terms", "codes", "patterns")
_RULE_FIELD = re.compile(r"^rules-([0-9a-z]{1,12})-([a-z_]+)$")


def _rules(form: Any) -> list[dict[str, Any]]:
    fields: dict[str, dict[str, str]] = {}
    for key, value in form.multi_items():
        match = _RULE_FIELD.match(key)
        if match:
            fields.setdefault(match[1], {})[match[2]] = value if isinstance(value, str) else ""
    rules = []
    for raw in fields.values():
        kind = raw.get("kind", "terms")
        rule: dict[str, Any] = {
            "id": raw.get("id", "").strip(),
            "vocabulary": raw.get("vocabulary", ""),
            kind if kind in RULE_KINDS else "terms": split_values(raw.get("values")),
        }
        if raw.get("exclude_words", "").strip():
            rule["exclude_words"] = split_values(raw["exclude_words"])
        if raw.get("relations", "").strip():
            rule["relations"] = split_values(raw["relations"])
        if raw.get("allow_typos") == "on":
            rule["allow_typos"] = True
        if raw.get("descendants") in ("yes", "no"):
            rule["include_descendants"] = raw["descendants"] == "yes"
        rules.append(rule)
    return rules


def spec_data(form: Any) -> dict[str, Any]:
    """The spec as plain data, in the order a person would write the YAML."""
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "description": form.get("description", "").strip(),
    }
    for key in ("author", "version", "source", "valid_at"):
        if str(form.get(key, "")).strip():
            data[key] = form[key].strip()
    data["vocabularies"] = [v for v in form.getlist("vocabularies") if isinstance(v, str)]
    data["include_descendants"] = form.get("include_descendants") == "on"
    data["rules"] = _rules(form)
    exclude = {
        key: split_values(form.get(f"exclude_{key}"))
        for key in ("codes", "patterns", "terms")
        if split_values(form.get(f"exclude_{key}"))
    }
    if exclude:
        data["exclude"] = exclude
    return data


def spec_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def spec_from_form(form: Any) -> tuple[CodelistSpec, str]:
    """Validate the form as a spec; errors name the YAML line and field (shown beside it)."""
    text = spec_yaml(spec_data(form))
    return parse_spec(text, CodelistSpec, source="spec"), text


def form_values(spec: CodelistSpec | None) -> dict[str, Any]:
    """What the form shows for ``spec`` (empty form for None)."""
    if spec is None:
        return {"spec": None, "rules": [], "exclude": {"codes": [], "patterns": [], "terms": []}}
    rules = []
    for rule in spec.rules:
        kind = next(k for k in RULE_KINDS if getattr(rule, k))
        rules.append(
            {
                "id": rule.id,
                "vocabulary": rule.vocabulary,
                "kind": kind,
                "values": ", ".join(getattr(rule, kind)),
                "exclude_words": ", ".join(rule.exclude_words),
                "relations": ", ".join(rule.relations or []),
                "descendants": {None: "", True: "yes", False: "no"}[rule.include_descendants],
                "allow_typos": rule.allow_typos,
            }
        )
    return {"spec": spec, "rules": rules, "exclude": spec.exclude.model_dump()}
