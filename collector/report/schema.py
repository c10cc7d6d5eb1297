"""Prints the JSON Schema of the JSON report (docs/report.schema.json): python -m collector.report.schema

The schema is generated from the pydantic ``Report`` model the JSON format is dumped from, so the two
cannot drift apart (tests/unit/test_docs.py checks the committed file).
"""

from __future__ import annotations

import json

from collector.report.model import REPORT_SCHEMA, Report


def report_json_schema() -> dict:
    schema = Report.model_json_schema(by_alias=True, mode="serialization")
    schema["$id"] = f"https://patrol.dev/schemas/{REPORT_SCHEMA}.json"
    schema["title"] = f"Patrol inspection report ({REPORT_SCHEMA})"
    schema["description"] = (
        "The JSON inspection report (patrol report ... --format json). Times are ISO 8601 in UTC; "
        "statuses are OK, WARNING, CRITICAL or UNKNOWN; optional sections are null when the report "
        "has no data for them."
    )
    return schema


if __name__ == "__main__":
    print(json.dumps(report_json_schema(), indent=2, sort_keys=True, ensure_ascii=False))
