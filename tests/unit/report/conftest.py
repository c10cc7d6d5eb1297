from __future__ import annotations

import pytest
from report_samples import START, TARGETS, current_results, previous_results, run_record

from collector.report import KnowledgeBase, ReportOptions, build_report


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture
def report(knowledge):
    options = ReportOptions(organisation="ACME Data Centre", reviewer="Zhang Min", timezone="Asia/Shanghai")
    return build_report(
        run_record(), current_results(), previous_results(), TARGETS, knowledge, options, now=START
    )
