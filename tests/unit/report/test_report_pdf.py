"""PDF reports (WeasyPrint): read back with poppler's pdftotext and drawn with pdftoppm, so what a reader
sees is checked, not only that a file exists."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from report_samples import START, TARGETS, current_results, previous_results, run_record

from collector.report import ReportOptions, build_report, render


def pdftotext(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("the PDF tests need poppler-utils (pdftotext, pdftoppm): scripts/test-deps installs it",
                    pytrace=False)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


@pytest.mark.parametrize("language, words", [
    ("en", ["Inspection report", "Findings", "Health score", "Sign-off"]),
    ("zh", ["巡检报告", "发现的问题", "健康评分"]),
])
def test_the_pdf_has_the_reports_content_on_a4_pages(knowledge, tmp_path, language, words):
    options = ReportOptions(organisation="ACME Data Centre", reviewer="Zhang Min", timezone="Asia/Shanghai",
                            language=language)
    report = build_report(run_record(), current_results(), previous_results(), TARGETS, knowledge, options,
                          now=START)
    path = render(report, ["pdf"], tmp_path, "report")["pdf"]
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdftotext(path)
    for word in words:
        assert word in text, word
    for finding in report.findings:  # every finding's target and observed value is printed
        assert finding.target in text
    assert "used 91.2% > 90" in text and "ACME DATA CENTRE" in text.upper()
    pages = subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")],
                           capture_output=True, timeout=120)
    assert pages.returncode == 0, pages.stderr
    pictures = sorted(tmp_path.glob("page-*.png"))
    assert pictures and all(p.stat().st_size > 1000 for p in pictures)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
