"""The push body, ``patrol.batch/1``: a batch of result records from one agent."""

from __future__ import annotations

from typing import Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from checks.params import describe_error
from checks.result import Result

BATCH_SCHEMA = "patrol.batch/1"
MAX_RESULTS = 10_000


class Batch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_: Literal["patrol.batch/1"] = Field(alias="schema")
    batch_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,100}$", description="unique per batch, kept across retries")
    agent: str = Field(min_length=1, max_length=255)
    results: list[Result] = Field(min_length=1, max_length=MAX_RESULTS)


def parse_batch(body: bytes) -> Batch:
    """The batch in ``body``; 400 for malformed JSON, 422 naming every schema violation."""
    try:
        return Batch.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise HTTPException(400, f"malformed JSON: {errors[0]['msg']}") from None
        detail = [{"loc": list(e["loc"]), "msg": describe_error(e, Batch)} for e in errors[:50]]
        raise HTTPException(422, detail) from None


def check_ownership(batch: Batch, agent: str) -> None:
    """An agent token owns exactly its own host: 403 for anything else, naming the offender."""
    if batch.agent != agent:
        raise HTTPException(403, f"this token belongs to agent {agent!r}, not {batch.agent!r}")
    for index, result in enumerate(batch.results):
        if result.target != agent:
            raise HTTPException(403, f"results[{index}].target {result.target!r} is not this agent's host {agent!r}")
