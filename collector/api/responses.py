"""The refusals each route documents in the OpenAPI document, next to its success.

FastAPI documents only the success and its own 422; the routes refuse with more (401 and 403 from
every token check, 413 and 415 from the body reader, ...), and a client generated from the document,
or a fuzzer checking answers against it, should find every one of them there.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """Every refusal: a message, or for invalid input the list of problems, each naming its field."""

    detail: str | list[dict[str, Any]]


MEANINGS = {
    304: "not modified: the plan has the ETag given in If-None-Match",
    400: "malformed JSON or gzip",
    401: "no token, or an unknown or revoked one",
    403: "a token of another kind, or of another agent",
    404: "no such object",
    409: "the event is not open",
    413: "the body (or its decompressed size) is over the limit",
    415: "the body is not application/json, or its encoding is not gzip or identity",
    422: "invalid input, each problem naming its field",
    503: "the store does not answer",
}
NO_BODY = (304,)


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that may answer with ``codes`` besides its success."""
    # The body's schema is given inline, not as a model: FastAPI would document a model in the route's
    # own media type, and /metrics answers text but refuses in JSON.
    problem = {"application/json": {"schema": Problem.model_json_schema()}}
    return {code: {"description": MEANINGS[code], **({} if code in NO_BODY else {"content": problem})}
            for code in codes}


def json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """``openapi_extra=`` documenting the JSON body of a route that reads its body itself (under a size
    limit, before anything parses it) rather than through a FastAPI body parameter."""
    schema = model.model_json_schema(by_alias=True)
    # Pydantic's "#/$defs/..." references would point into the OpenAPI document's root, where there is no
    # $defs: tools could not resolve them (schemathesis generated no body at all). The models are not
    # recursive, so their definitions are written in place.
    schema = inline_definitions(schema, schema.pop("$defs", {}))
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


def inline_definitions(schema: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(schema, list):
        return [inline_definitions(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    reference = schema.get("$ref", "")
    if reference.startswith("#/$defs/"):
        return inline_definitions(definitions[reference.removeprefix("#/$defs/")], definitions)
    return {key: inline_definitions(value, definitions) for key, value in schema.items()}
