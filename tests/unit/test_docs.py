"""The generated documents must match the code they are generated from."""

import json
from pathlib import Path

from checks.registry import Registry
from checks.schema import result_json_schema
from collector.reference import check_reference
from collector.report.schema import report_json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_check_reference_is_up_to_date():
    expected = check_reference(Registry.discover())
    assert (DOCS / "checks.md").read_text() == expected, "run: .venv/bin/patrol checks reference > docs/checks.md"


def test_result_schema_is_up_to_date():
    committed = json.loads((DOCS / "result.schema.json").read_text())
    assert committed == result_json_schema(), "run: .venv/bin/python -m checks.schema > docs/result.schema.json"


def test_report_schema_is_up_to_date():
    committed = json.loads((DOCS / "report.schema.json").read_text())
    assert committed == report_json_schema(), (
        "run: .venv/bin/python -m collector.report.schema > docs/report.schema.json"
    )


def test_every_check_documents_its_metrics_and_parameters():
    for name, check in Registry.discover().available().items():
        assert not isinstance(check, str), check
        assert check.metrics and check.example and check.title, name
        for field, info in check.Params.model_fields.items():
            assert info.description, f"{name}.{field} has no description"
