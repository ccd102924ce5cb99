"""Load YAML/JSON specs into pydantic models with errors that point at the file and line.

Every spec of sndskit (code lists, cohorts, algorithms) goes through :func:`load_spec`: a
validation error names the file, the line of the offending key, the field path and — for
choices — the allowed values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sndskit.errors import SndskitError

M = TypeVar("M", bound=BaseModel)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at path ``loc`` (the deepest existing one)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                key_node = next(
                    (k for k, _ in node.value if getattr(k, "value", None) == key), None
                )
                return key_node.start_mark.line + 1 if key_node else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _allowed(error: dict[str, Any]) -> list[str] | None:
    ctx = error.get("ctx") or {}
    expected = ctx.get("expected")
    if isinstance(expected, str) and "'" in expected:
        return [
            part.strip(" '")
            for part in expected.replace(" or ", ",").split(",")
            if part.strip(" '")
        ]
    return None


def validation_error(
    exc: ValidationError, path: Path | str, node: yaml.Node | None = None
) -> SndskitError:
    """The first validation error as a SndskitError with file, line, field and choices."""
    error = exc.errors()[0]
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    field = ".".join(str(p) for p in loc) or None
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return SndskitError(
        message, file=path, line=_line_of(node, loc), field=field, allowed=_allowed(error)
    )


def parse_spec(text: str, model: type[M], *, source: Path | str = "<spec>") -> M:
    """Validate ``text`` (YAML or JSON) as ``model``."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SndskitError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            file=source,
            line=mark.line + 1 if mark else None,
        ) from None
    if not isinstance(data, dict):
        raise SndskitError("expected a mapping of fields at the top level", file=source, line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, node) from None


def load_spec(path: Path | str, model: type[M]) -> M:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SndskitError("file not found", file=path) from None
    return parse_spec(text, model, source=path)


def dump_spec(spec: BaseModel) -> str:
    """Canonical JSON of a spec (its hash identifies it in manifests)."""
    return json.dumps(
        spec.model_dump(mode="json", exclude_none=True), sort_keys=True, ensure_ascii=False
    )
