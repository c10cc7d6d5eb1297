"""The result record: what every check produces, what agents push and what the store keeps.

Its JSON form is versioned by ``schema`` (``patrol.result/1``) and documented in docs/results.md;
docs/result.schema.json is generated from this model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from checks.status import Status

RESULT_SCHEMA = "patrol.result/1"

# Units a metric may carry. Exporters map them to Prometheus base-unit suffixes
# (% -> _ratio after dividing by 100, B -> _bytes, s -> _seconds, B/s -> _bytes_per_second,
# C -> _celsius, V -> _volts, W -> _watts, A -> _amperes, rpm -> _rpm: hardware sensors).
UNITS = ("", "%", "B", "s", "B/s", "/s", "C", "V", "W", "A", "rpm")

Unit = Literal["", "%", "B", "s", "B/s", "/s", "C", "V", "W", "A", "rpm"]


class Metric(BaseModel):
    """One measured figure. ``name`` is snake_case without a unit suffix; ``unit`` says the unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)
    value: float = Field(allow_inf_nan=False, description="a finite number")
    unit: Unit = ""
    labels: dict[str, str] = Field(default_factory=dict)


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
    summary: str = Field(max_length=2000, pattern=r"^[^\r\n]*$", description="one line for a human")
    metrics: list[Metric] = Field(default_factory=list)
    thresholds: list[ThresholdSpec] = Field(default_factory=list)
    started_at: AwareDatetime = Field(description="with a time zone, e.g. 2026-11-23T08:00:00Z")
    duration_seconds: float = Field(ge=0)
    collected: bool = Field(
        default=True, description="false when the figures could not be collected (timeout, error, unreachable)"
    )
    playbook: str | None = Field(
        default=None, max_length=200, description="the playbook whose schedule produced the result, if any"
    )
    scheduled_at: AwareDatetime | None = Field(
        default=None, description="the scheduled firing time this result belongs to (agents and scheduled patrols)"
    )

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def to_json_dict(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_json_dict(cls, data: dict) -> Result:
        return cls.model_validate(data)
