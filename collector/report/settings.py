"""The ``report:`` section of a settings file: this site's defaults for every report it writes.

Formats, language, organisation, inspector, reviewer, title and knowledge directories as a playbook's
``report:`` takes them, plus the time zone period reports are read in and the e-mail channel reports
are sent through. What applies, first match wins: the command's flags, the playbook's ``report:`` (a
run's report), this section, the built-in defaults.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path as FilePath
from typing import Any

from pydantic import Field, ValidationError, field_validator

from checks.errors import ConfigError, Path, Problem
from checks.params import problems_from_validation
from collector.config.playbook import Playbook, ReportOptions, knowledge_directories

SECTION: Path = ("report",)


class ReportSettings(ReportOptions):
    timezone: str | None = Field(default=None, description="IANA zone daily and period reports are read in")
    email: str | None = Field(default=None, min_length=1,
                              description="the email channel (notifications: channels:) reports are sent through")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        from collector.report.model import zone

        if name is not None:
            try:
                zone(name)
            except Exception:  # noqa: BLE001 - any unknown zone is the user's typo
                raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None
        return name

    def options(self) -> dict[str, Any]:
        """The fields a report's options take, as set in the file (unset ones are left to the defaults)."""
        return self.model_dump(exclude_unset=True, exclude={"timezone", "email"})


def load_report(data: Any, file: str | None = None, lines: Any = None) -> ReportSettings:
    """Validate the ``report:`` section; ConfigError with every problem, each with file, line and field.

    Knowledge directories are relative to the settings file."""
    if data is None:
        return ReportSettings()
    problems: list[Problem] = []
    settings = None
    if not isinstance(data, dict):
        got = type(data).__name__
        problems.append(Problem(SECTION, f"expected a mapping (formats, language, email, ...), got {got}"))
    else:
        base = FilePath(file) if file is not None else FilePath("settings.yaml")
        found: list[Problem] = []
        knowledge = knowledge_directories(base, data, found, relative_to="the settings file")
        problems.extend(Problem(SECTION + p.path[1:], p.message) for p in found)
        try:
            settings = ReportSettings.model_validate(data)
        except ValidationError as exc:
            problems.extend(Problem(SECTION + p.path, p.message) for p in problems_from_validation(exc, ReportSettings))
        if settings is not None and "knowledge" in data:
            settings = settings.model_copy(update={"knowledge": knowledge})
    if problems or settings is None:
        if file is not None and lines is not None:
            from collector.config.yamlfile import locate

            problems = locate(problems, file, lines)
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return settings


def merged_options(base: ReportOptions, site: ReportSettings | None, **flags: Any) -> ReportOptions:
    """``flags`` (None: not given) over what ``base`` (a playbook's report:) sets, over ``site``, over the
    defaults; the knowledge directories of site and base add up. ValidationError for a bad flag value."""
    data = {**(site.options() if site is not None else {}), **base.model_dump(exclude_unset=True)}
    data["knowledge"] = (*(site.knowledge if site is not None else ()), *base.knowledge)
    data.update({k: v for k, v in flags.items() if v is not None})
    return ReportOptions.model_validate(data)


def with_report_defaults(playbook: Playbook, site: ReportSettings | None) -> Playbook:
    """The playbook with the site's report defaults under its own report: settings (patrol run and the
    scheduled patrols of patrol serve: the report written at the end of each run)."""
    if site is None or not site.options():
        return playbook
    return dataclasses.replace(playbook, report=merged_options(playbook.report, site))
