"""Rendering a ``Report`` to files: self-contained HTML, JSON (the ``patrol.report/1`` schema) and Markdown.

Every format is rendered in memory first and each file is written to a temporary name and renamed
into place, so a crash or a template error never leaves a half-written report behind.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from collector.errors import ReportFormatUnavailable
from collector.report import charts, plots
from collector.report.capacity import CAPACITY_DAYS
from collector.report.gcpause import gc_paused
from collector.report.labels import labels
from collector.report.model import STATUS_ORDER, Report, zone

FORMATS = ("html", "json", "md", "xlsx", "pdf")
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@gc_paused()
def render(report: Report, formats: Sequence[str], out_dir: Path, basename: str) -> dict[str, Path]:
    """Write ``out_dir/basename.<format>`` for each format; returns format -> path."""
    wanted = list(dict.fromkeys(f.lower().lstrip(".") for f in formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format {', '.join(unknown)}: expected {', '.join(FORMATS)}")
    if not basename or "/" in basename or "\\" in basename or basename.startswith("."):
        raise ValueError(f"invalid report file name {basename!r}: a plain name without a directory is needed")
    contents = {fmt: render_bytes(report, fmt) for fmt in wanted}  # every format first: nothing half-written
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for fmt, data in contents.items():
        path = out_dir / f"{basename}.{fmt}"
        write_atomically(path, data)
        written[fmt] = path
    return written


def render_bytes(report: Report, fmt: str) -> bytes:
    """The report in one format, as the bytes of its file."""
    if fmt == "xlsx":
        from collector.report.xlsx import render_xlsx

        return render_xlsx(report)
    if fmt == "pdf":
        # Printed, healthy targets take a line each: a 1,000-host report stays readable and WeasyPrint fast.
        return render_pdf(render_text(report, "html", compact=True))
    return render_text(report, fmt).encode("utf-8")


PDF_LIBRARIES = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1"  # WeasyPrint's, on Debian


def render_pdf(html: str) -> bytes:
    """The HTML report printed to PDF by WeasyPrint (its print stylesheet: A4, no page-splitting rows)."""
    try:
        import weasyprint
    except ModuleNotFoundError:
        raise ReportFormatUnavailable("PDF reports need WeasyPrint: pip install 'patrol[pdf]'") from None
    except OSError as exc:  # its system libraries are loaded at import
        raise ReportFormatUnavailable(
            f"PDF reports need WeasyPrint's system libraries ({exc}); on Debian: apt-get install {PDF_LIBRARIES}"
        ) from None
    return weasyprint.HTML(string=html).write_pdf()


def render_text(report: Report, fmt: str, compact: bool = False) -> str:
    """The report in one format, as text; ``compact``: healthy targets on one line each (print)."""
    if fmt == "json":
        return json.dumps(report.to_json_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt not in ("html", "md"):
        raise ValueError(f"unknown report format {fmt!r}: expected {', '.join(FORMATS)}")
    template = _environment().get_template(f"report.{fmt}")
    return template.render(**_context(report), compact=compact)


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same directory and a rename."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide the final mode, as a plain open() would.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory, which is fine.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def render_template(name: str, **context) -> str:
    """One of the report's other templates (the e-mail of collector/report/mail.py) with ``context``."""
    return _environment().get_template(name).render(**context)


# -- template environment and helpers -----------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_cell
    env.filters["code"] = inline_code
    env.filters["anchor"] = anchor
    return env


def _context(report: Report) -> dict:
    words = labels(report.language)
    tz = zone(report.cover.timezone)
    return {
        "report": report,
        "cover": report.cover,
        "overview": report.overview,
        "health": report.health,
        "t": words,
        "when": _when_formatter(tz, report.cover.timezone),
        "duration": functools.partial(format_duration, language=report.language),
        "gauge": charts.gauge(report.health.score, report.health.band),
        "bar": charts.status_bar(report.overview.status_counts),
        "status_order": STATUS_ORDER,
        "status_colours": charts.STATUS_COLOURS,
        "band_colour": charts.BAND_COLOURS[report.health.band],
        "sparkline": charts.sparkline,
        "capacity_days": CAPACITY_DAYS,
        "plots": _plots(report, words),
        # The printed report states each distinct recommendation once and refers to it by number.
        "advice": {text: n for n, text in enumerate(dict.fromkeys(f.recommendation for f in report.findings), 1)},
    }


def _plots(report: Report, words: dict[str, str]) -> dict[str, Markup | None]:
    """The matplotlib charts (inline SVG; None where there is nothing to draw)."""
    by_category = {
        section.category: {s: sum(1 for t in section.targets if t.worst_status is s) for s in STATUS_ORDER}
        for section in report.categories
        if section.targets
    }
    return {
        "category_health": plots.category_health(by_category, words),
        "trend": plots.daily_trend([(d.day, d.counts()) for d in report.trend], words),
        "capacity": plots.capacity(report.capacity, words),
    }


def _when_formatter(tz: dt.tzinfo, zone_name: str) -> Callable[..., str]:
    def when(value: dt.datetime | dt.date | None, with_zone: bool = False) -> str:
        if value is None:
            return "—"
        if not isinstance(value, dt.datetime):
            return value.isoformat()
        text = value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        return f"{text} ({zone_name})" if with_zone else text

    return when


def format_duration(seconds: float | None, language: str = "en") -> str:
    """42 s, 3 min 5 s, 1 h 2 min (or 42 秒, 3 分 5 秒, 1 小时 2 分)."""
    if seconds is None:
        return "—"
    units = ("小时", "分", "秒") if language == "zh" else ("h", "min", "s")
    if seconds < 10:
        return f"{seconds:.1f} {units[2]}"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} {units[0]} {minutes} {units[1]}"
    if minutes:
        return f"{minutes} {units[1]} {secs} {units[2]}"
    return f"{secs} {units[2]}"


def markdown_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, no line breaks, no raw HTML tags."""
    text = " ".join(str(value).split())
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)  # only what could open a tag: "< 20" stays readable


def inline_code(value: object) -> Markup:
    """HTML-escaped text with `backtick` spans shown as <code>, as the knowledge base writes commands."""
    parts = re.split(r"`([^`]+)`", str(value))
    html = [
        str(escape(part)) if i % 2 == 0 else f"<code>{escape(part)}</code>" for i, part in enumerate(parts)
    ]
    return Markup("".join(html))


def anchor(value: object) -> str:
    """A stable HTML id for a target name."""
    return "target-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", str(value)).strip("-")
