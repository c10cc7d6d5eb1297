"""Prints the JSON Schema of the result record (docs/result.schema.json): python -m checks.schema"""

from __future__ import annotations

import json

from checks.result import RESULT_SCHEMA, Result


def result_json_schema() -> dict:
    schema = Result.model_json_schema(by_alias=True)
    schema["$id"] = f"https://patrol.dev/schemas/{RESULT_SCHEMA}.json"
    schema["title"] = f"Patrol result ({RESULT_SCHEMA})"
    return schema


if __name__ == "__main__":
    print(json.dumps(result_json_schema(), indent=2, sort_keys=True))
