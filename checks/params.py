"""Check parameter schemas: a frozen pydantic model per check, validated with every error at once."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, ValidationError

from checks.errors import ConfigError, Path, Problem


class CheckParams(BaseModel):
    """Base of every check's parameters. Unknown keys are errors (a typo must not pass silently).

    Defaults are validated too, so a default threshold is a parsed Range like a configured one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    timeout: PositiveFloat | None = Field(
        default=None, description="seconds before the check is abandoned as UNKNOWN (default: the check's own)"
    )


P = TypeVar("P", bound=BaseModel)


def validate_params(model: type[P], data: Mapping[str, Any] | None, path: Path = ()) -> P:
    """Validate ``data`` against ``model``; raise ConfigError listing every problem with its path."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError([Problem(path, f"expected a mapping of parameters, got {type(data).__name__}")])
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, model, path)) from None


def problems_from_validation(exc: ValidationError, model: type[BaseModel] | None, path: Path = ()) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        problems.append(Problem(path + loc, describe_error(error, model)))
    return problems


def describe_error(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        name = str(loc[-1])
        known = _known_fields(model, loc[:-1])
        hint = suggest(name, known)
        expected = f"; expected one of: {', '.join(sorted(known))}" if known and not hint else ""
        return f"unknown parameter {name!r}{hint}{expected}"
    message = error["msg"]
    # pydantic prefixes messages of custom validators with "Value error, "; the reader does not need it.
    message = message.removeprefix("Value error, ")
    if kind != "missing" and "input" in error:
        message += f" (got {error['input']!r})"
    return message


def suggest(name: str, known: list[str] | set[str] | tuple[str, ...]) -> str:
    """' (did you mean 'x'?)' for a likely typo, else ''."""
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _known_fields(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """Field names of the (possibly nested) model that ``loc`` points into."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        info = getattr(current, "model_fields", {}).get(part)
        current = _inner_model(info.annotation) if info else None
    if current is None or not hasattr(current, "model_fields"):
        return []
    return list(current.model_fields)


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
