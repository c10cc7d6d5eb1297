"""ha_cluster — a Pacemaker cluster as this node sees it, and keepalived's VRRP instances.

Pacemaker: ``crm_mon --one-shot --inactive --output-as=xml`` (pacemaker 2.0.3 and later). Items:

    cluster        quorum, DC, cluster-wide options; the figures       no quorum / no DC -> CRITICAL
    node NAME      one per node                       offline, unclean -> CRITICAL; standby, maintenance,
                                                      pending, shutting down -> WARNING
    resource ID    one per top-level resource (primitive, group, clone, bundle), with its failed actions
                   stopped although its target-role is not Stopped, failed, blocked -> CRITICAL;
                   a clone with some instances stopped -> WARNING (CRITICAL when none runs or a promotable
                   clone has no promoted instance); unmanaged -> WARNING;
                   a failed action (crm_mon's "Failed Resource Actions") -> WARNING, CRITICAL while the
                   resource is still failed. ``crm_resource --cleanup`` clears recovered ones.

crm_mon needs root or the haclient group: run the patrol as root (agent) or give it ``sudo: true``
(sudoers rule in docs/hardware.md). When pacemaker is not running on the node, crm_mon answers
"Not connected": UNKNOWN with its message (the other nodes' reports show this one offline).

keepalived: the state of each VRRP instance as keepalived itself reports it in its data dump
(``/tmp/keepalived.data``), which it writes on SIGUSR1. The dump is chosen over looking for the VIP with
``ip addr`` because only keepalived knows FAULT (a tracked script or interface failed) from BACKUP; both
hold no VIP. With ``vrrp_refresh`` (default) the check sends SIGUSR1 to the pid in ``vrrp_pid_file``
(root, or ``sudo: true`` with a rule for ``kill -USR1``) and waits for the file to be rewritten; without
it, something else must refresh it (a root cron job) and ``vrrp_max_age`` says how old it may be.
An instance not in its expected state is CRITICAL, and so is FAULT. A split brain (both routers MASTER)
cannot be seen from one host: expecting MASTER on one router and BACKUP on the other makes the
BACKUP router's report CRITICAL the moment it becomes MASTER, which is how the two reports show it.

Verified against recorded data only (tests/fixtures/platform/crm_mon-*.xml, keepalived-*.data): this
machine has neither pacemaker nor keepalived. What runs for real here is the missing-tool path, locally
and over SSH (tests/integration/test_platform_tools.py).
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, PositiveFloat, field_validator, model_validator

from checks.backup.shell import Completed
from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.platform.common import run_tool, shell_for
from checks.status import Status

CRM_MON_ARGS = ("--one-shot", "--inactive", "--output-as=xml")
KEEPALIVED_DATA = "/tmp/keepalived.data"
KEEPALIVED_PID = "/run/keepalived.pid"
REFRESH_WAIT = 3.0  # seconds keepalived gets to rewrite its dump after SIGUSR1


class HaClusterParams(CheckParams):
    pacemaker: bool | Literal["auto"] = Field(
        default="auto",
        description="check Pacemaker with crm_mon: true, false, or auto (only where crm_mon is installed)",
    )
    vrrp: dict[str, Literal["MASTER", "BACKUP"]] = Field(
        default_factory=dict,
        description="keepalived VRRP instances to check and the state each must be in ({VI_1: MASTER})",
    )
    sudo: bool = Field(
        default=False, description="run crm_mon and the kill that refreshes keepalived's dump under 'sudo -n'"
    )
    crm_mon: str = Field(
        default="crm_mon",
        min_length=1,
        description="the crm_mon program (/usr/sbin/crm_mon when /usr/sbin is not on the SSH user's PATH)",
    )
    vrrp_data_path: str = Field(
        default=KEEPALIVED_DATA, pattern=r"^/", description="keepalived's data dump (written on SIGUSR1)"
    )
    vrrp_refresh: bool = Field(
        default=True, description="send keepalived SIGUSR1 first so that the dump is current (needs root or sudo)"
    )
    vrrp_pid_file: str = Field(default=KEEPALIVED_PID, pattern=r"^/", description="keepalived's pid file")
    vrrp_max_age: PositiveFloat | None = Field(
        default=300, description="seconds: an older dump is UNKNOWN (stale); null to accept any age"
    )

    @field_validator("vrrp", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: v.upper() if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _something(self) -> HaClusterParams:
        if self.pacemaker is False and not self.vrrp:
            raise ValueError("nothing to check: set pacemaker to true or auto, or list vrrp instances")
        return self


class ClusterReadError(ValueError):
    pass


# -- Pacemaker: parsing (pure) --------------------------------------------------------------------


@dataclass
class Node:
    name: str
    type: str = "member"
    online: bool = False
    standby: bool = False
    standby_onfail: bool = False
    maintenance: bool = False
    pending: bool = False
    unclean: bool = False
    shutdown: bool = False
    is_dc: bool = False
    resources_running: int = 0


@dataclass
class Primitive:
    id: str
    agent: str = ""
    role: str = "Stopped"
    target_role: str = ""
    active: bool = False
    failed: bool = False
    failure_ignored: bool = False
    managed: bool = True
    blocked: bool = False
    orphaned: bool = False
    nodes: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.active and self.role.lower() not in ("stopped", "stopping", "unknown")

    @property
    def promoted(self) -> bool:
        return self.role.lower() in ("promoted", "master")


@dataclass
class Resource:
    """A top-level resource: a primitive, a group, a clone or a bundle."""

    id: str
    kind: str  # primitive, group, clone, promotable clone, bundle
    instances: list[list[Primitive]]  # a primitive or group: one; a clone: one per instance (a group each)
    disabled: bool = False  # the container's target-role is Stopped
    managed: bool = True

    @property
    def primitives(self) -> list[Primitive]:
        return [p for instance in self.instances for p in instance]


@dataclass
class Failure:
    resource: str
    task: str
    node: str
    exitstatus: str
    exitcode: str = ""
    exitreason: str = ""
    when: str = ""


@dataclass
class Cluster:
    dc: str | None = None
    version: str = ""
    quorum: bool | None = None
    nodes_configured: int | None = None
    resources_configured: int | None = None
    resources_disabled: int = 0
    maintenance_mode: bool = False
    stop_all: bool = False
    nodes: list[Node] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def _flag(element: ET.Element, name: str, default: bool = False) -> bool:
    value = element.get(name)
    return default if value is None else value.lower() == "true"


def _int(element: ET.Element | None, name: str) -> int | None:
    if element is None:
        return None
    try:
        return int(element.get(name, ""))
    except ValueError:
        return None


def _primitive(element: ET.Element) -> Primitive:
    return Primitive(
        id=element.get("id", "?"),
        agent=element.get("resource_agent", ""),
        role=element.get("role", "Stopped"),
        target_role=element.get("target_role", ""),
        active=_flag(element, "active"),
        failed=_flag(element, "failed"),
        failure_ignored=_flag(element, "failure_ignored"),
        managed=_flag(element, "managed", True),
        blocked=_flag(element, "blocked"),
        orphaned=_flag(element, "orphaned"),
        nodes=[n.get("name", "?") for n in element.findall("node")],
    )


def _members(element: ET.Element) -> list[Primitive]:
    """The primitives of a primitive, a group, or a bundle replica."""
    if element.tag == "resource":
        return [_primitive(element)]
    return [_primitive(r) for r in element.iter("resource")]


def _resource(element: ET.Element) -> Resource | None:
    rid = element.get("id", "?")
    disabled, managed = _flag(element, "disabled"), _flag(element, "managed", True)
    if element.tag == "resource":
        return Resource(rid, "primitive", [_members(element)], managed=managed)
    if element.tag == "group":
        return Resource(rid, "group", [_members(element)], disabled, managed)
    if element.tag == "clone":
        kind = "promotable clone" if _flag(element, "multi_state") else "clone"
        return Resource(
            rid, kind, [_members(child) for child in element if child.tag in ("resource", "group")], disabled, managed
        )
    if element.tag == "bundle":
        return Resource(rid, "bundle", [_members(r) for r in element.findall("replica")], disabled, managed)
    return None


_OP_KEY = re.compile(r"^(.+)_([a-z_-]+)_(\d+)$")


def _failure(element: ET.Element) -> Failure:
    op_key = element.get("op_key") or element.get("id") or "?"
    task = element.get("task", "")
    interval = element.get("interval", "")
    if task and op_key.endswith(f"_{task}_{interval}"):
        resource = op_key[: -len(f"_{task}_{interval}")]
    else:
        found = _OP_KEY.match(op_key)
        resource, task = (found.group(1), task or found.group(2)) if found else (op_key, task)
    return Failure(
        resource=resource.split(":")[0],  # a unique clone's instance (ping:1) belongs to its clone's primitive
        task=task or "operation",
        node=element.get("node", "?"),
        exitstatus=element.get("exitstatus", ""),
        exitcode=element.get("exitcode", ""),
        exitreason=element.get("exitreason", ""),
        when=element.get("last-rc-change", ""),
    )


def parse_crm_mon(body: bytes) -> Cluster:
    """The cluster of ``crm_mon --output-as=xml``; ClusterReadError naming what is wrong with the answer."""
    if b"<!DOCTYPE" in body.upper():
        raise ClusterReadError("crm_mon's answer has a DOCTYPE, which its XML never has; refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        start = " ".join(body[:60].decode("utf-8", "replace").split())
        raise ClusterReadError(f"crm_mon did not answer XML ({exc}; starts with {start!r})") from None
    if root.tag != "pacemaker-result":
        raise ClusterReadError(f"expected a <pacemaker-result> document from crm_mon, got <{root.tag}>")
    status = root.find("status")
    if status is not None and status.get("code", "0") != "0":
        errors = "; ".join(
            re.sub(r"^(crm_mon:\s*)?(Error:\s*)?", "", e.text.strip())
            for e in status.iter("error") if e.text and e.text.strip()
        )  # fmt: skip
        code, message = status.get("code"), status.get("message", "error")
        hint = "; is pacemaker running on this node?" if code == "102" else ""
        raise ClusterReadError(f"crm_mon: {errors or message} ({message}, code {code}{hint})")
    summary = root.find("summary")
    if summary is None or root.find("nodes") is None:
        raise ClusterReadError("crm_mon's XML has no <summary> or no <nodes>")
    cluster = Cluster()
    dc = summary.find("current_dc")
    if dc is not None and _flag(dc, "present"):
        cluster.dc, cluster.version = dc.get("name"), dc.get("version", "")
        if dc.get("with_quorum") is not None:
            cluster.quorum = _flag(dc, "with_quorum")
    cluster.nodes_configured = _int(summary.find("nodes_configured"), "number")
    configured = summary.find("resources_configured")
    cluster.resources_configured = _int(configured, "number")
    cluster.resources_disabled = _int(configured, "disabled") or 0
    options = summary.find("cluster_options")
    if options is not None:
        cluster.maintenance_mode = _flag(options, "maintenance-mode")
        cluster.stop_all = _flag(options, "stop-all-resources")
    for node in root.iterfind("nodes/node"):
        cluster.nodes.append(Node(
            name=node.get("name", "?"), type=node.get("type", "member"), online=_flag(node, "online"),
            standby=_flag(node, "standby"), standby_onfail=_flag(node, "standby_onfail"),
            maintenance=_flag(node, "maintenance"), pending=_flag(node, "pending"),
            unclean=_flag(node, "unclean"), shutdown=_flag(node, "shutdown"), is_dc=_flag(node, "is_dc"),
            resources_running=_int(node, "resources_running") or 0,
        ))  # fmt: skip
    resources = root.find("resources")
    for element in resources if resources is not None else ():
        resource = _resource(element)
        if resource is not None:
            cluster.resources.append(resource)
    cluster.failures = [_failure(f) for f in root.iterfind("failures/failure")]
    return cluster


# -- Pacemaker: evaluation (pure) -----------------------------------------------------------------


def evaluate_cluster(cluster: Cluster) -> list[Outcome]:
    """The cluster item, then one per node, then one per top-level resource, in crm_mon's order."""
    primitives = [p for r in cluster.resources for p in r.primitives]
    started = sum(p.running for p in primitives)
    configured = cluster.resources_configured if cluster.resources_configured is not None else len(primitives)
    online = sum(n.online for n in cluster.nodes)
    figures = [
        metric("nodes_online", online),
        metric("nodes_total", len(cluster.nodes)),
        metric("resources_started", started),
        metric("resources_configured", configured),
        metric("failed_actions", len(cluster.failures)),
    ]
    problems: list[str] = []
    statuses: list[Status] = []
    if cluster.dc is None:
        problems.append("no DC elected (this partition has no coordinator)")
        statuses.append(Status.CRITICAL)
    elif cluster.quorum is False:
        problems.append("partition WITHOUT quorum")
        statuses.append(Status.CRITICAL)
    if cluster.maintenance_mode:
        problems.append("maintenance-mode is on (no resource is managed)")
        statuses.append(Status.WARNING)
    if cluster.stop_all:
        problems.append("stop-all-resources is on")
        statuses.append(Status.WARNING)
    known = {p.id for p in primitives}
    orphans = [f for f in cluster.failures if f.resource not in known]
    if orphans:
        problems.append("failed actions of resources no longer configured: " + "; ".join(map(_describe, orphans)))
        statuses.append(Status.WARNING)
    parts = []
    if cluster.dc is not None:
        parts.append({True: "quorum", False: "no quorum", None: "quorum not reported"}[cluster.quorum])
        parts.append(f"DC {cluster.dc}" + (f" (pacemaker {cluster.version.split('-')[0]})" if cluster.version else ""))
    parts.append(f"{online} of {len(cluster.nodes)} nodes online")
    disabled = f", {cluster.resources_disabled} disabled" if cluster.resources_disabled else ""
    parts.append(f"{started} of {configured} resource instances started{disabled}")
    parts.append(f"{len(cluster.failures)} failed action(s)")
    summary = ", ".join(parts)
    if problems:
        summary = "; ".join(problems) + " - " + summary
    outcomes = [
        Outcome(
            item="cluster", summary=summary, metrics=figures, status=Status.worst(statuses) if statuses else Status.OK
        )
    ]
    outcomes += [evaluate_node(node) for node in cluster.nodes]
    outcomes += [evaluate_resource(r, cluster) for r in cluster.resources]
    return outcomes


def evaluate_node(node: Node) -> Outcome:
    critical, warning = [], []
    if not node.online:
        critical.append("OFFLINE")
    if node.unclean:
        critical.append("UNCLEAN (must be fenced before its resources can move)")
    for flag, text in ((node.standby_onfail, "standby (on-fail)"), (node.standby and not node.standby_onfail,
                       "standby"), (node.maintenance, "maintenance"), (node.pending, "pending (joining)"),
                       (node.shutdown, "shutting down")):  # fmt: skip
        if flag:
            warning.append(text)
    parts = []
    if node.online:
        parts.append("online")
    if node.type != "member":
        parts.append(f"{node.type} node")
    if node.is_dc:
        parts.append("DC")
    parts.append(f"{node.resources_running} resource(s) running")
    summary = ", ".join(parts)
    if critical or warning:
        summary = ", ".join(critical + warning) + " - " + summary
    status = Status.CRITICAL if critical else Status.WARNING if warning else Status.OK
    return Outcome(item=f"node {node.name}", summary=summary, status=status)


def _should_run(primitive: Primitive, resource: Resource, cluster: Cluster) -> bool:
    return not (primitive.target_role.lower() == "stopped" or resource.disabled or cluster.stop_all)


def _where(primitives: Iterable[Primitive]) -> str:
    nodes = sorted({n for p in primitives if p.running for n in p.nodes})
    return ", ".join(nodes)


def _describe(failure: Failure) -> str:
    status = failure.exitstatus + (f", rc {failure.exitcode}" if failure.exitcode else "")
    text = f"{failure.task} failed on {failure.node} ({status}"
    text += f", {failure.when})" if failure.when else ")"
    if failure.exitreason:
        text += f": {failure.exitreason}"
    return text


def evaluate_resource(resource: Resource, cluster: Cluster) -> Outcome:
    critical: list[str] = []
    warning: list[str] = []
    members = resource.primitives
    for p in members:
        name = "" if resource.kind == "primitive" else f"{p.id} "
        if p.failed:
            (warning if p.failure_ignored else critical).append(
                f"{name}FAILED"
                + (f" on {', '.join(p.nodes)}" if p.nodes else "")
                + (" (failure ignored)" if p.failure_ignored else "")
            )
        if p.blocked:
            critical.append(f"{name}blocked (pacemaker cannot act on it)")
    if resource.kind in ("clone", "promotable clone", "bundle"):
        running = [i for i in resource.instances if i and all(p.running for p in i)]
        wanted = [i for i in resource.instances if all(_should_run(p, resource, cluster) for p in i)]
        total = len(resource.instances)
        where = _where(members)
        description = f"{resource.kind}: {len(running)} of {total} instances started" + (f" ({where})" if where else "")
        if resource.kind == "promotable clone":
            promoted = sorted({n for p in members if p.promoted for n in p.nodes})
            description += f", promoted on {', '.join(promoted)}" if promoted else ", none promoted"
            if not promoted and wanted:
                critical.append("no instance promoted")
        stopped = len(wanted) - len([i for i in running if i in wanted])
        if wanted and not running:
            critical.append("no instance running")
        elif stopped > 0:
            warning.append(f"{stopped} instance(s) stopped")
    else:
        stopped = [p for p in members if not p.running and _should_run(p, resource, cluster)]
        if stopped:
            if resource.kind == "primitive":
                critical.append("STOPPED, should be running (target-role is not Stopped)")
            else:
                critical.append(f"STOPPED: {', '.join(p.id for p in stopped)} (should be running)")
        where = _where(members)
        if resource.kind == "primitive":
            p = members[0]
            state = "disabled (target-role Stopped)" if not _should_run(p, resource, cluster) and not p.running \
                else f"{p.role} on {where}" if where else p.role  # fmt: skip
            description = f"{state} ({p.agent})" if p.agent else state
        else:
            started = [p.id for p in members if p.running]
            description = f"group of {len(members)}: {len(started)} started" + (f" on {where}" if where else "")
            if resource.disabled:
                description += ", disabled (target-role Stopped)"
    if not resource.managed or any(not p.managed for p in members):
        warning.append("unmanaged (pacemaker will not recover it)")
    if any(p.orphaned for p in members):
        warning.append("orphaned (no longer configured, still active)")
    ids = {p.id for p in members} | {resource.id}
    failures = [f for f in cluster.failures if f.resource in ids]
    still_failed = any(p.failed and not p.failure_ignored for p in members)
    for failure in failures:
        (critical if still_failed else warning).append("failed action: " + _describe(failure))
    summary = description
    if critical or warning:
        summary = "; ".join(critical + warning) + " - " + description
    status = Status.CRITICAL if critical else Status.WARNING if warning else Status.OK
    return Outcome(item=f"resource {resource.id}", summary=summary, status=status)


# -- keepalived: parsing and evaluation (pure) ----------------------------------------------------


@dataclass
class VrrpInstance:
    name: str
    state: str = ""
    wanted: str = ""  # keepalived's Wantstate
    since: str = ""  # the last transition, as keepalived prints it
    interface: str = ""
    master_router: str = ""


_SECTION = re.compile(r"^-+<\s*(.+?)\s*>-+$")
_VALUE = re.compile(r"^\s+([A-Za-z][\w ]*?)\s*=\s*(.*)$")


def parse_keepalived(text: str) -> dict[str, VrrpInstance]:
    """The VRRP instances of keepalived's data dump (its "VRRP Topology" section), by name."""
    instances: dict[str, VrrpInstance] = {}
    section = ""
    current: VrrpInstance | None = None
    for line in text.splitlines():
        header = _SECTION.match(line.strip())
        if header:
            section, current = header.group(1), None
            continue
        if section != "VRRP Topology":
            continue
        if line.startswith(" VRRP Instance = "):
            current = VrrpInstance(line.split("=", 1)[1].strip())
            instances[current.name] = current
            continue
        found = _VALUE.match(line)
        if current is None or not found or not line.startswith("   ") or line.startswith("    "):
            continue  # only the instance's own lines, not the lists indented below them
        key, value = found.group(1).lower(), found.group(2).strip()
        if key == "state" and not current.state:
            current.state = value.upper()
        elif key in ("wantstate", "want state"):
            current.wanted = value.upper()
        elif key == "last transition":
            readable = re.search(r"\((.*)\)", value)
            current.since = " ".join(re.sub(r"\.\d+", "", readable.group(1) if readable else value).split())
        elif key in ("interface", "running on device") and not current.interface:
            current.interface = value
        elif key == "master router":
            current.master_router = value
    return instances


def evaluate_vrrp(name: str, expected: str | None, instance: VrrpInstance | None) -> Outcome:
    item = f"vrrp {name}"
    if instance is None:
        return Outcome(
            item=item,
            summary="not in keepalived's data (instance not configured on this host?)",
            status=Status.CRITICAL,
        )
    parts = [instance.state or "no state reported"]
    if instance.interface:
        parts.append(f"on {instance.interface}")
    if instance.since:
        parts.append(f"since {instance.since}")
    if instance.master_router and instance.state == "BACKUP":
        parts.append(f"master {instance.master_router}")
    description = " ".join(parts[:1]) + (", " + ", ".join(parts[1:]) if parts[1:] else "")
    problems = []
    if instance.state == "FAULT":
        problems.append("FAULT (a tracked interface or script failed; keepalived holds no VIP)")
    elif expected and instance.state != expected:
        problems.append(f"{instance.state or 'no state'}, expected {expected}")
        if instance.state == "MASTER":
            problems.append("the peer may be MASTER too (split brain), or it is down")
    if problems:
        return Outcome(item=item, summary="; ".join(problems) + " - " + description, status=Status.CRITICAL)
    return Outcome(
        item=item, summary=description + ("" if expected else " (no expected state given)"), status=Status.OK
    )


# -- the check ----------------------------------------------------------------------------------


class HaClusterCheck(Check):
    name = "ha_cluster"
    title = "HA clusters: Pacemaker nodes, resources, failed actions, quorum; keepalived VRRP states"
    Params = HaClusterParams
    connection_kind = "shell"
    metrics = {
        "nodes_online": "cluster nodes online (crm_mon)",
        "nodes_total": "cluster nodes known to crm_mon",
        "resources_started": "resource instances running (a clone counts once per instance)",
        "resources_configured": "resource instances configured, disabled ones included",
        "failed_actions": "entries in crm_mon's Failed Resource Actions (crm_resource --cleanup clears them)",
    }
    example = "- ha_cluster: {sudo: true, vrrp: {VI_WEB: MASTER}}"

    def run(self, ctx: CheckContext, params: HaClusterParams) -> Iterable[Outcome]:
        skipped = ""
        if params.pacemaker is not False:
            try:
                done = run_tool(ctx, [params.crm_mon, *CRM_MON_ARGS], params.sudo)
            except CheckUnavailable as exc:
                program = params.crm_mon.rsplit("/", 1)[-1]
                if params.pacemaker is not True and str(exc).startswith(f"{program} is not installed"):
                    skipped = str(exc)
                else:
                    raise
            else:
                yield from self.pacemaker(done, params)
        if skipped and not params.vrrp:
            raise CheckUnavailable(f"{skipped}; no vrrp instances are listed either: nothing to check")
        if params.vrrp:
            yield from self.keepalived(ctx, params)

    def pacemaker(self, done: Completed, params: HaClusterParams) -> Iterable[Outcome]:
        try:
            cluster = parse_crm_mon(done.stdout)
        except ClusterReadError as exc:
            reason = str(exc)
            stderr = done.error_text(200)
            if not done.stdout.strip() and stderr:
                reason = f"crm_mon failed (exit {done.exit_status}): {stderr}"
            if not params.sudo and re.search(r"permission|denied|privilege|not authorized|EACCES", reason, re.I):
                reason += " (crm_mon needs root or the haclient group: see the 'sudo' parameter)"
            if "unrecognized option" in stderr or "Unknown option" in stderr:
                reason += " (--output-as=xml needs pacemaker 2.0.3 or later)"
            yield Outcome(item="cluster", summary=reason, status=Status.UNKNOWN, collected=False)
            return
        yield from evaluate_cluster(cluster)

    def keepalived(self, ctx: CheckContext, params: HaClusterParams) -> Iterable[Outcome]:
        signalled = None
        if params.vrrp_refresh:
            signalled = self.refresh(ctx, params)
        data, age = self.read_dump(ctx, params, signalled)
        if params.vrrp_max_age is not None and age > params.vrrp_max_age:
            hint = "keepalived did not rewrite it after SIGUSR1" if signalled is not None else \
                "refresh it (vrrp_refresh: true) or from a root cron job"  # fmt: skip
            raise CheckUnavailable(
                f"{params.vrrp_data_path} is {age:.0f} s old, more than vrrp_max_age {params.vrrp_max_age:g} s ({hint})"
            )
        instances = parse_keepalived(data.decode("utf-8", "replace"))
        if not instances:
            raise CheckUnavailable(f"{params.vrrp_data_path} has no VRRP instance (is it keepalived's data dump?)")
        for name, expected in params.vrrp.items():
            yield evaluate_vrrp(name, expected, instances.get(name))
        for name, instance in instances.items():
            if name not in params.vrrp and instance.state == "FAULT":
                yield evaluate_vrrp(name, None, instance)

    def refresh(self, ctx: CheckContext, params: HaClusterParams) -> float:
        """Ask keepalived to write its dump; the host's clock just before."""
        try:
            _info, raw, now = shell_for(ctx).read_tail(params.vrrp_pid_file, 64)
        except FileNotFoundError:
            raise CheckUnavailable(
                f"{params.vrrp_pid_file} does not exist: keepalived is not running, or set vrrp_pid_file"
            ) from None
        except PermissionError as exc:
            raise CheckUnavailable(f"cannot read {params.vrrp_pid_file}: {exc}") from None
        pid = raw.decode("ascii", "replace").strip()
        if not pid.isdigit():
            raise CheckUnavailable(f"{params.vrrp_pid_file} holds no process id ({pid[:20]!r})")
        done = run_tool(ctx, ["kill", "-USR1", pid], params.sudo)
        if done.exit_status != 0:
            error = done.error_text(200)
            if "No such process" in error:
                raise CheckUnavailable(
                    f"keepalived is not running (pid {pid} in {params.vrrp_pid_file} does not exist)"
                )
            hint = "" if params.sudo else "; run as root or set sudo: true (sudoers rule in docs/hardware.md)"
            raise CheckUnavailable(f"cannot send SIGUSR1 to keepalived (pid {pid}): {error}{hint}")
        return now

    def read_dump(self, ctx: CheckContext, params: HaClusterParams, signalled: float | None) -> tuple[bytes, float]:
        """The dump and its age; after a refresh, waits (briefly) until it is newer than the signal."""
        shell = shell_for(ctx)
        waited_until = time.monotonic() + min(REFRESH_WAIT, max(0.0, ctx.remaining() - 1.0))
        while True:
            try:
                info, data, now = shell.read_tail(params.vrrp_data_path, 1 << 20)
            except FileNotFoundError:
                info, data, now = None, b"", 0.0
            except PermissionError as exc:
                raise CheckUnavailable(f"cannot read {params.vrrp_data_path}: {exc}") from None
            if signalled is None or (info is not None and info.mtime >= int(signalled)):
                break
            if time.monotonic() >= waited_until:
                break
            time.sleep(0.2)
        if info is None:
            after = " after SIGUSR1 (systemd PrivateTmp? set vrrp_data_path)" if signalled is not None else ""
            raise CheckUnavailable(f"{params.vrrp_data_path} does not exist{after}")
        return data, max(0.0, now - info.mtime)
