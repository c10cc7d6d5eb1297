"""The result record: what every check produces, what agents push and what the store keeps.

Its JSON form is versioned by ``schema`` (``patrol.result/1``) and documented in docs/results.md;
docs/result.schema.json is generated from this model.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checks.status import Status

RESULT_SCHEMA = "patrol.result/1"

# Units a metric may carry. Exporters map them to Prometheus base-unit suffixes
# (% -> _ratio after dividing by 100, B -> _bytes, s -> _seconds, B/s -> _bytes_per_second).
UNITS = ("", "%", "B", "s", "B/s", "/s")

Unit = Literal["", "%", "B", "s", "B/s", "/s"]


class Metric(BaseModel):
    """One measured figure. ``name`` is snake_case without a unit suffix; ``unit`` says the unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)
    value: float
    unit: Unit = ""
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("a metric value must be a finite number")
        return value


class ThresholdSpec(BaseModel):
    """The thresholds applied to one metric, as Nagios ranges (``None``: not set)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    warning: str | None = None
    critical: str | None = None


class Result(BaseModel):
    """The outcome of one check for one item of one target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["patrol.result/1"] = Field(default=RESULT_SCHEMA, alias="schema")
    target: str = Field(min_length=1, max_length=255)
    check: str = Field(min_length=1, max_length=100)
    item: str = Field(default="", max_length=500, description="mount point, interface, tablespace ...; '' if none")
    status: Status
    summary: str = Field(max_length=2000, description="one line for a human")
    metrics: list[Metric] = Field(default_factory=list)
    thresholds: list[ThresholdSpec] = Field(default_factory=list)
    started_at: dt.datetime
    duration_seconds: float = Field(ge=0)
    collected: bool = Field(
        default=True, description="false when the figures could not be collected (timeout, error, unreachable)"
    )
    playbook: str | None = Field(
        default=None, max_length=200, description="the playbook whose schedule produced the result, if any"
    )
    scheduled_at: dt.datetime | None = Field(
        default=None, description="the scheduled firing time this result belongs to (agents and scheduled patrols)"
    )

    @field_validator("summary")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("started_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("started_at must carry a time zone (e.g. 2026-11-23T08:00:00Z)")
        return value.astimezone(dt.UTC)

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_json_dict(cls, data: dict) -> Result:
        return cls.model_validate(data)
