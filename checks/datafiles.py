"""Data files users extend (SNMP vendor profiles, Jolokia profiles): YAML validated by a pydantic model,
every problem reported with the file's name and the field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from checks.errors import ConfigError, Problem
from checks.params import problems_from_validation

M = TypeVar("M", bound=BaseModel)


def load_model_file(path: Path, model: type[M], what: str, keys: str) -> M:
    """``path`` read as YAML and validated as ``model``. ``what`` names the kind of file in messages
    ("SNMP profile"), ``keys`` the keys a mapping of it has."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([Problem((), f"cannot read {what}: {exc}", file=str(path))]) from None
    if not isinstance(data, Mapping):
        raise ConfigError([Problem((), f"the {what} must be a mapping ({keys})", file=str(path))])
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError([p.located(str(path), None) for p in problems_from_validation(exc, model)]) from None


def load_named_files(directories: Iterable[Path], load: Callable[[Path], M], what: str) -> dict[str, M]:
    """Every ``*.yaml``/``*.yml`` file of ``directories`` through ``load``, by the model's ``name``; a
    later directory's file replaces an earlier one of the same name. Every problem of every file at once."""
    found: dict[str, M] = {}
    problems: list[Problem] = []
    for directory in directories:
        if not directory.is_dir():
            problems.append(Problem((), f"{what} directory {directory} does not exist"))
            continue
        for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
            try:
                model = load(path)
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
            found[model.name] = model  # type: ignore[attr-defined]
    if problems:
        raise ConfigError(problems)
    return found
