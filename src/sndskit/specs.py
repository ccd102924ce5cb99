"""Load YAML/JSON specs into pydantic models with errors that point at the file and line.

Every spec of sndskit (code lists, cohorts, algorithms) goes through :func:`load_spec`: a
validation error names the file, the line of the offending key, the field path and — for
choices — the allowed values.
"""

from __future__ import annotations

import difflib
import json
import typing
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


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models an annotation can hold (``X``, ``list[X]``, ``X | None``, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at ``loc`` inside ``model`` (list indexes and dict keys skipped).

    >>> from sndskit.codelists.spec import CodelistSpec
    >>> "rules" in fields_at(CodelistSpec, ())
    True
    """
    models = [model]
    for key in loc:
        if not isinstance(key, str):
            continue
        nested = [
            m
            for current in models
            if key in current.model_fields
            for m in _models_in(current.model_fields[key].annotation)
        ]
        models = nested or models
    return sorted({name for m in models for name in m.model_fields})


def validation_error(
    exc: ValidationError,
    path: Path | str,
    node: yaml.Node | None = None,
    model: type[BaseModel] | None = None,
) -> SndskitError:
    """The first validation error as a SndskitError with file, line, field and choices; an
    unknown field lists the allowed ones and the closest ("did you mean")."""
    errors = exc.errors()
    # a misspelt key is both unknown and missing: the unknown one says what to fix
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    field = ".".join(str(p) for p in loc) or None
    message, allowed, hint = error["msg"], _allowed(error), None
    if error["type"] == "extra_forbidden":
        message = "unknown field"
        if model is not None and loc:
            allowed = fields_at(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=3, cutoff=0.6)
            hint = f"did you mean / vouliez-vous dire : {', '.join(close)}?" if close else None
    return SndskitError(
        message, file=path, line=_line_of(node, loc), field=field, allowed=allowed, hint=hint
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
        raise validation_error(exc, source, node, model) from None


def load_spec(path: Path | str, model: type[M]) -> M:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SndskitError("file not found", file=path) from None
    return parse_spec(text, model, source=path)


def line_in_file(path: Path | str, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the key at ``loc`` in a YAML/JSON spec file (None when unreadable)."""
    try:
        return _line_of(yaml.compose(Path(path).read_text(encoding="utf-8")), loc)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def line_of_value(path: Path | str, key: str, value: str) -> int | None:
    """1-based line of the first ``key: value`` pair anywhere in a YAML/JSON spec file — where
    a cohort names a code list (``codelist: t2d_drugs``), for errors about that reference."""
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if getattr(k, "value", None) == key and getattr(v, "value", None) == value:
                    return v.start_mark.line + 1
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def dump_spec(spec: BaseModel) -> str:
    """Canonical JSON of a spec (its hash identifies it in manifests)."""
    return json.dumps(
        spec.model_dump(mode="json", exclude_none=True), sort_keys=True, ensure_ascii=False
    )
