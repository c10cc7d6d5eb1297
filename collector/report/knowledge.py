"""The knowledge base (知识库): for each check and status, what an operator should do about it.

One YAML file per check; the built-in files live in ``knowledge/`` next to this module and a site
adds or overrides texts with its own directories::

    check: disk
    recommendations:                 # per status; WARNING, CRITICAL, UNKNOWN
      WARNING: {en: "...", zh: "..."}
      CRITICAL: "..."                # a plain string is the English text
    items:                           # optional, per item: fnmatch patterns on the item
      "/var/log*": {WARNING: {en: "...", zh: "..."}}

Files are read in order (built-ins first, then each directory in turn, files sorted by name); a later
text replaces an earlier one for the same check, status, item pattern and language, everything else
is kept. When several item patterns match, the one defined last wins (as in .gitignore), so a site's
patterns beat the built-in ones.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.errors import ConfigError, Problem
from checks.errors import Path as FieldPath
from checks.status import Status
from collector.config.yamlfile import load_yaml

BUILTIN_DIR = Path(__file__).resolve().parent / "knowledge"
STATUSES = (Status.WARNING.value, Status.CRITICAL.value, Status.UNKNOWN.value)
_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")

Texts = dict[str, str]  # language -> text

# Said when no file has anything for a finding; UNKNOWN means the figures are missing, not bad.
GENERIC: dict[str, Texts] = {
    "WARNING": {
        "en": "Compare the figure with its threshold and with the previous patrol, find what changed on the "
        "target (a deployment, more load, a new job) and correct the cause before it becomes critical; if "
        "this level is normal for this target, adjust the threshold in the playbook.",
        "zh": "将该数值与阈值及上次巡检结果对比，排查目标近期的变化（发布、负载增加、新增任务），"
        "在升级为严重之前处理根因；若该水平对此目标属正常，请在巡检方案中调整阈值。",
    },
    "CRITICAL": {
        "en": "Treat as urgent: confirm the figure on the target, find the cause (recent changes, the "
        "largest consumers, the service and system logs) and restore a safe margin now; open an incident "
        "if the service is affected and record the root cause.",
        "zh": "请立即处理：在目标上确认该数值，查明原因（近期变更、占用最多的进程或数据、服务及系统日志），"
        "尽快恢复安全余量；如已影响业务，请按事件流程处理并记录根因。",
    },
    "UNKNOWN": {
        "en": "The check could not collect its figures, so the health of this item is not known. Check that "
        "the target is reachable, that the credentials and permissions the check uses are valid and that "
        "the check's prerequisites are installed; re-run the check for this target to see the full error.",
        "zh": "该检查未能采集到数据，此项的健康状况未知。请确认目标可达、检查所用的凭据和权限有效、"
        "所需的前提组件已安装；针对该目标重新执行检查以查看完整错误信息。",
    },
}


@dataclass
class CheckKnowledge:
    """What the knowledge base holds for one check."""

    recommendations: dict[str, Texts] = field(default_factory=dict)  # status -> texts
    items: dict[str, dict[str, Texts]] = field(default_factory=dict)  # item pattern -> status -> texts

    def merge(self, other: CheckKnowledge) -> None:
        for status, texts in other.recommendations.items():
            self.recommendations.setdefault(status, {}).update(texts)
        for pattern, by_status in other.items.items():
            mine = self.items.setdefault(pattern, {})
            for status, texts in by_status.items():
                mine.setdefault(status, {}).update(texts)


class KnowledgeBase:
    def __init__(self, checks: dict[str, CheckKnowledge] | None = None) -> None:
        self.checks: dict[str, CheckKnowledge] = checks or {}

    @classmethod
    def load(cls, dirs: Sequence[Path] = ()) -> KnowledgeBase:
        """The built-in knowledge, then each of ``dirs`` in order. Raises ``ConfigError``."""
        base = cls()
        problems: list[Problem] = []
        for directory in [BUILTIN_DIR, *map(Path, dirs)]:
            if not directory.is_dir():
                problems.append(Problem((), "knowledge directory not found", file=str(directory)))
                continue
            for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
                try:
                    check, knowledge = read_file(path)
                except ConfigError as error:
                    problems.extend(error.problems)
                    continue
                base.checks.setdefault(check, CheckKnowledge()).merge(knowledge)
        if problems:
            raise ConfigError(problems)
        return base

    def recommend(self, check: str, item: str, status: Status | str, lang: str = "en") -> str:
        """The recommendation for a finding; a generic one when nothing specific is known; '' for OK.

        The requested language is preferred at every level of detail (item, then check) before English
        is; only then does the generic text apply.
        """
        status = Status(status).value
        if status == Status.OK.value:
            return ""
        candidates: list[Texts] = []
        knowledge = self.checks.get(check)
        if knowledge is not None:
            for pattern in reversed(list(knowledge.items)):
                if fnmatch.fnmatchcase(item, pattern) and status in knowledge.items[pattern]:
                    candidates.append(knowledge.items[pattern][status])
                    break
            if status in knowledge.recommendations:
                candidates.append(knowledge.recommendations[status])
        for language in _preferences(lang):
            for texts in candidates:
                if texts.get(language):
                    return texts[language]
        generic = GENERIC[status]
        return next((generic[lang] for lang in _preferences(lang) if lang in generic), generic["en"])


def _preferences(lang: str) -> list[str]:
    """'zh-CN' -> ['zh-CN', 'zh', 'en']: the exact tag, its base language, then English."""
    tags = [lang, lang.replace("_", "-").split("-")[0], "en"]
    return list(dict.fromkeys(tags))


# -- reading and validating one file ------------------------------------------------------------


def read_file(path: Path) -> tuple[str, CheckKnowledge]:
    """Parse one knowledge file; every problem is reported with the file, line and field."""
    file = str(path)
    data, lines = load_yaml(path)
    problems: list[Problem] = []

    def problem(where: FieldPath, message: str) -> None:
        problems.append(Problem(where, message, file=file, line=lines.line(where)))

    if not isinstance(data, dict):
        problem((), "expected a mapping with 'check', 'recommendations' and optionally 'items'")
        raise ConfigError(problems)
    for key in data:
        if key not in ("check", "recommendations", "items"):
            problem((str(key),), "unknown field: expected 'check', 'recommendations' or 'items'")
    check = data.get("check")
    if not isinstance(check, str) or not check.strip():
        problem(("check",), "expected the name of a check, e.g. 'disk'")
    knowledge = CheckKnowledge()
    knowledge.recommendations = _by_status(data.get("recommendations"), ("recommendations",), problem)
    items = data.get("items")
    if items is not None:
        if not isinstance(items, dict):
            problem(("items",), "expected a mapping of item patterns (e.g. '/var/log*') to recommendations")
        else:
            for pattern, by_status in items.items():
                where = ("items", str(pattern))
                if not isinstance(pattern, str) or not pattern:
                    problem(where, "an item pattern must be a non-empty string")
                    continue
                knowledge.items[pattern] = _by_status(by_status, where, problem, required=True)
    if problems:
        raise ConfigError(problems)
    return str(check), knowledge


def _by_status(value: Any, where: FieldPath, problem: Any, required: bool = False) -> dict[str, Texts]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        problem(where, f"expected a mapping of statuses ({', '.join(STATUSES)}) to texts")
        return {}
    out: dict[str, Texts] = {}
    for status, texts in value.items():
        here = (*where, str(status))
        if status not in STATUSES:
            problem(here, f"unknown status: expected one of {', '.join(STATUSES)}")
            continue
        parsed = _texts(texts, here, problem)
        if parsed:
            out[status] = parsed
    return out


def _texts(value: Any, where: FieldPath, problem: Any) -> Texts:
    if isinstance(value, str) and value.strip():
        return {"en": _one_paragraph(value)}
    if not isinstance(value, dict) or not value:
        problem(where, "expected a text, or a mapping of languages to texts such as {en: '...', zh: '...'}")
        return {}
    out: Texts = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or not _LANGUAGE.match(lang):
            problem((*where, str(lang)), "expected a language code such as 'en', 'zh' or 'zh-CN'")
        elif not isinstance(text, str) or not text.strip():
            problem((*where, lang), "expected a non-empty text")
        else:
            out[lang] = _one_paragraph(text)
    return out


def _one_paragraph(text: str) -> str:
    # YAML block scalars keep line breaks; a recommendation is one paragraph in a table cell.
    return " ".join(text.split())

