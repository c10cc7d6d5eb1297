"""jolokia — any JVM's MBeans through a Jolokia agent (JMX over HTTP/JSON), mapped by a profile.

One bulk POST per poll to ``jolokia_url`` (e.g. http://app1:8080/jolokia): a list of
``{"type": "read", "mbean": ..., "attribute": [...]}`` requests, one per read of the profile. Each
answer carries its own status, so one missing MBean is one UNKNOWN item, never a failed poll.
Inventory: ``jolokia_url``, ``jolokia_user``, ``jolokia_password`` (a secret reference), optional
``jolokia_ca_file`` and ``jolokia_timeout``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from checks.base import CheckContext, Outcome, metric
from checks.errors import ConfigError
from checks.middleware import jolokia_profiles as jp
from checks.middleware.base import MiddlewareCheck
from checks.middleware.http import EndpointConfigError, EndpointError, HttpClient, join
from checks.params import CheckParams
from checks.status import Status
from checks.thresholds import Levels, UpperLimit
from checks.units import format_value

PATTERN_CHARS = ("*", "?")


class LevelsOverride(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    warning: UpperLimit | None = None
    critical: UpperLimit | None = None


class JolokiaParams(CheckParams):
    profile: str = Field(description="server type: tomcat, wildfly, weblogic, tongweb, jvm, or a site profile")
    profile_dirs: list[str] = Field(default_factory=list, description="directories with extra or overriding "
                                    "profile YAML files")  # fmt: skip
    thresholds: dict[str, LevelsOverride] = Field(
        default_factory=dict, description="per metric of the profile: {warning, critical} replacing its defaults"
    )
    path: str = Field(default="", description="path under jolokia_url where the agent answers (usually none)")


class JolokiaCheck(MiddlewareCheck):
    name = "jolokia"
    title = "Any JVM through Jolokia: thread pools, heap, GC, JDBC pools, stuck threads, per server profile"
    Params = JolokiaParams
    prefix = "jolokia"
    metrics = {
        "thread_busy": "busy threads of a pool, of its maximum (%)",
        "busy_threads": "threads of a pool serving a request",
        "current_threads": "threads in a pool",
        "max_threads": "a pool's maximum threads",
        "heap_used": "JVM heap used, of its maximum (%)",
        "heap_used_size": "JVM heap used (bytes)",
        "heap_max_size": "JVM maximum heap (bytes)",
        "gc_time": "share of wall time spent in a garbage collector between polls (%)",
        "gc_collections": "garbage collections per second between polls",
        "jdbc_active": "active connections of a JDBC pool, of its maximum or capacity (%)",
        "jdbc_active_connections": "active connections of a JDBC pool",
        "jdbc_max_connections": "a JDBC pool's maximum connections",
        "jdbc_in_use_connections": "connections of a JDBC pool in use (WildFly)",
        "jdbc_available_connections": "connections a JDBC pool can still hand out (WildFly)",
        "jdbc_capacity": "connections in a JDBC pool now (WebLogic CurrCapacity)",
        "jdbc_waiting": "requests waiting for a JDBC connection",
        "stuck_threads": "WebLogic stuck threads",
        "hogging_threads": "WebLogic hogging threads",
        "execute_threads": "WebLogic execute threads in the self-tuning pool",
        "idle_threads": "WebLogic idle execute threads",
        "pending_requests": "WebLogic user requests waiting for a thread",
        "jvm_threads": "live JVM threads",
    }  # the shipped profiles' metrics; a site profile adds its own (docs/middleware.md)
    example = "- jolokia: {profile: tomcat, thresholds: {thread_busy: {warning: 70, critical: 85}}}"

    def poll(self, ctx: CheckContext, client: HttpClient, params: JolokiaParams) -> Iterator[Outcome]:
        profile = choose_profile(params)
        url = join(client.endpoint.url, params.path) if params.path else client.endpoint.url.rstrip("/") + "/"
        answers = client.post_json(url, bulk_request(profile))
        if not isinstance(answers, list) or len(answers) != len(profile.reads):
            raise EndpointError(f"{url}: not a Jolokia bulk answer (expected a list of {len(profile.reads)} answers)")
        for read, answer in zip(profile.reads, answers, strict=True):
            yield from evaluate(ctx, profile, read, answer, params.thresholds)


def choose_profile(params: JolokiaParams) -> jp.Profile:
    try:
        profiles = jp.load_profiles(params.profile_dirs)
    except ConfigError as exc:
        raise EndpointConfigError(f"invalid Jolokia profiles: {'; '.join(str(p) for p in exc.problems)}") from None
    profile = profiles.get(params.profile)
    if profile is None:
        raise EndpointConfigError(f"unknown Jolokia profile {params.profile!r} (profile); known: "
                                    f"{', '.join(sorted(profiles))}")  # fmt: skip
    unknown = sorted(name for name in params.thresholds if profile.metric(name) is None)
    if unknown:
        known = ", ".join(m.name for r in profile.reads for m in r.metrics)
        raise EndpointConfigError(f"thresholds: profile {profile.name} has no metric {', '.join(unknown)}; "
                                    f"its metrics: {known}")  # fmt: skip
    return profile


def bulk_request(profile: jp.Profile) -> list[dict[str, Any]]:
    return [{"type": "read", "mbean": read.mbean, "attribute": read.attributes()} for read in profile.reads]


def evaluate(ctx: CheckContext, profile: jp.Profile, read: jp.ReadSpec, answer: Any,
             overrides: Mapping[str, LevelsOverride]) -> Iterator[Outcome]:  # fmt: skip
    if not isinstance(answer, Mapping) or "status" not in answer:
        yield Outcome(item=read.mbean, summary="not a Jolokia answer", status=Status.UNKNOWN, collected=False)
        return
    if answer["status"] != 200:
        if answer["status"] == 404 and read.optional:
            return  # the feature (a JDBC pool, an executor) is not in use on this server
        error = str(answer.get("error") or f"status {answer['status']}").split("\n", 1)[0]
        yield Outcome(item=read.mbean, summary=f"{read.mbean}: {error}", status=Status.UNKNOWN, collected=False)
        return
    value = answer.get("value")
    if not isinstance(value, Mapping):
        yield Outcome(item=read.mbean, summary=f"{read.mbean}: unexpected value", status=Status.UNKNOWN,
                      collected=False)  # fmt: skip
        return
    # A pattern answers {ObjectName: {attribute: value}}; a single MBean answers {attribute: value}.
    objects = value.items() if any(c in read.mbean for c in PATTERN_CHARS) else [(read.mbean, value)]
    for object_name, attributes in sorted(objects):
        yield item_outcome(ctx, profile, read, object_name, attributes, overrides)


def item_outcome(ctx: CheckContext, profile: jp.Profile, read: jp.ReadSpec, object_name: str,
                 attributes: Any, overrides: Mapping[str, LevelsOverride]) -> Outcome:  # fmt: skip
    props = jp.key_properties(object_name)
    try:
        item = read.item.format_map(props)
    except (KeyError, ValueError):
        item = object_name  # the template names a key this MBean's name lacks: the full name is unambiguous
    figures = []
    levels: dict[str, Levels] = {}
    missing = []
    waiting = False
    for spec in read.metrics:
        number = figure(ctx, profile, object_name, spec, attributes)
        if number is None:
            missing.append(spec.name)
            continue
        if number == "waiting":
            waiting = True
            continue
        figures.append(metric(spec.name, number, spec.unit_of))  # type: ignore[arg-type]
        override = overrides.get(spec.name)
        levels[spec.name] = Levels(
            override.warning if override and "warning" in override.model_fields_set else spec.warning,
            override.critical if override and "critical" in override.model_fields_set else spec.critical,
        )
    parts = [f"{m.name} {format_value(m.value, m.unit)}" for m in figures]
    if waiting:
        parts.append("rates from the next poll on")
    if missing:
        parts.append(f"not reported: {', '.join(missing)}")
    if not figures and not waiting:
        return Outcome(item=item, summary=f"{object_name}: {'; '.join(parts)}", status=Status.UNKNOWN, collected=False)
    return Outcome(item=item, summary=", ".join(parts), metrics=figures, levels=levels)


def figure(ctx: CheckContext, profile: jp.Profile, object_name: str, spec: jp.MetricSpec,
           attributes: Any) -> float | str | None:  # fmt: skip
    """The metric's value, None when the MBean does not report it, "waiting" for a rate's first sample."""
    values = [lookup(attributes, path) for path in spec.paths()]
    if any(v is None for v in values):
        return None
    if spec.ratio is not None:
        part, whole = values
        if whole <= 0:  # type: ignore[operator]
            return None  # -1 or 0: unbounded, no share to compute
        return round(100.0 * part / whole * spec.scale, 2)  # type: ignore[operator]
    number = values[0]
    if spec.rate:
        key = ("jolokia", ctx.target.name, profile.name, object_name, spec.name)
        rates = ctx.rates.update(key, {"v": int(number)})  # type: ignore[arg-type]
        if rates is None or rates["v"] is None:
            return "waiting"
        number = rates["v"]
    return round(number * spec.scale, 6)  # type: ignore[operator]


def lookup(attributes: Any, path: str) -> float | None:
    current = attributes
    for part in path.split("/"):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    if isinstance(current, bool):
        return float(current)
    if isinstance(current, (int, float)):
        return float(current)
    return None
