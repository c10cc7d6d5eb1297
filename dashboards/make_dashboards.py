"""Writes the Grafana dashboards next to this file: ``python dashboards/make_dashboards.py [OUT_DIR]``.

The JSON files are generated from this one description (panels, queries, units, thresholds), so a
change to a query or a threshold is made here once; tests/unit/test_dashboards_generated.py checks that
the committed JSON is what this script writes."""
from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).parent
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
YELLOW, RED, GREEN, ORANGE, PURPLE, BLUE = "#EAB839", "red", "green", "orange", "purple", "blue"

DAY = 86400

STATUS_MAP = [{"type": "value", "options": {
    "0": {"text": "OK", "color": "green", "index": 0},
    "1": {"text": "WARNING", "color": YELLOW, "index": 1},
    "2": {"text": "CRITICAL", "color": "red", "index": 2},
    "3": {"text": "UNKNOWN", "color": "purple", "index": 3},
}}]


def onoff(one: str, zero: str, one_color: str = "green", zero_color: str = "red") -> list:
    return [{"type": "value", "options": {
        "1": {"text": one, "color": one_color, "index": 0},
        "0": {"text": zero, "color": zero_color, "index": 1},
    }}]


def th(*steps) -> dict:
    """th(GREEN, (YELLOW, 0.8), (RED, 0.9)): the first colour is the base."""
    out = [{"color": steps[0], "value": None}]
    out += [{"color": c, "value": v} for c, v in steps[1:]]
    return {"mode": "absolute", "steps": out}


def upper(warn, crit) -> dict:
    return th(GREEN, (YELLOW, warn), (RED, crit))


def lower(crit, warn) -> dict:
    """Lower is worse: red below crit, yellow below warn."""
    return th(RED, (YELLOW, crit), (GREEN, warn))


NONE = th(GREEN)


def q(expr: str, legend: str = "", ref: str = "A", instant: bool = False, table: bool = False) -> dict:
    t = {"refId": ref, "datasource": DS, "expr": expr, "legendFormat": legend or "__auto",
         "range": not instant, "instant": instant, "editorMode": "code"}
    if table:
        t["format"] = "table"
    return t


class Dashboard:
    def __init__(self, uid: str, title: str, description: str, variables: list[dict], tags: list[str]):
        self.uid, self.title, self.description = uid, title, description
        self.variables, self.tags = variables, tags
        self.panels: list[dict] = []
        self.next_id = 1
        self.x = 0
        self.y = 0
        self.row_h = 0
        self.types: set[str] = set()

    def _place(self, w: int, h: int) -> dict:
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        pos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title: str) -> None:
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        self.panels.append({"type": "row", "title": title, "id": self._id(), "collapsed": False, "panels": [],
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}})
        self.y += 1

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def add(self, kind: str, title: str, targets: list[dict], *, w: int = 8, h: int = 8, unit: str = "short",
            thresholds: dict | None = None, description: str = "", mappings: list | None = None,
            min_=None, max_=None, overrides: list | None = None, options: dict | None = None,
            custom: dict | None = None, transformations: list | None = None, decimals=None) -> dict:
        for i, t in enumerate(targets):
            t["refId"] = chr(ord("A") + i)
        defaults = {"unit": unit, "thresholds": thresholds or NONE, "mappings": mappings or [],
                    "color": {"mode": "thresholds"}}
        if min_ is not None:
            defaults["min"] = min_
        if max_ is not None:
            defaults["max"] = max_
        if decimals is not None:
            defaults["decimals"] = decimals
        if kind == "timeseries":
            defaults["color"] = {"mode": "palette-classic"}
            defaults["custom"] = {
                "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "gradientMode": "none",
                "showPoints": "never", "spanNulls": True, "lineInterpolation": "linear", "axisPlacement": "auto",
                "axisSoftMin": 0, "stacking": {"mode": "none", "group": "A"},
                "thresholdsStyle": {"mode": "off" if thresholds is None else "line+area"},
                **(custom or {}),
            }
            opts = {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                               "calcs": ["lastNotNull", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}}
        elif kind == "stat":
            opts = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "background", "graphMode": "none", "justifyMode": "auto", "orientation": "auto",
                    "textMode": "auto", "wideLayout": True, "showPercentChange": False}
        elif kind == "bargauge":
            opts = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                    "valueMode": "color", "namePlacement": "auto", "sizing": "auto", "minVizHeight": 16,
                    "minVizWidth": 8, "maxVizHeight": 300}
        elif kind == "table":
            defaults["custom"] = {"align": "auto", "cellOptions": {"type": "auto"}, "filterable": True,
                                  "inspect": False, **(custom or {})}
            opts = {"showHeader": True, "cellHeight": "sm",
                    "footer": {"show": False, "reducer": ["sum"], "countRows": False, "fields": ""}}
        else:
            raise ValueError(kind)
        opts.update(options or {})
        panel = {"id": self._id(), "type": kind, "title": title, "description": description, "datasource": DS,
                 "gridPos": self._place(w, h), "targets": targets,
                 "fieldConfig": {"defaults": defaults, "overrides": overrides or []}, "options": opts}
        if transformations:
            panel["transformations"] = transformations
        self.types.add(kind)
        self.panels.append(panel)
        return panel

    def table(self, title: str, columns: list[tuple], *, keep: tuple = ("target",), w=24, h=8, description="",
              sort: str | None = None) -> dict:
        """columns: (header, expr, unit, thresholds, mappings|None); one instant query each, merged on the
        labels in ``keep`` (each expr must aggregate ``by`` exactly those)."""
        targets, overrides = [], []
        for i, (header, expr, unit, thresholds, mappings) in enumerate(columns):
            ref = chr(ord("A") + i)
            targets.append(q(expr, instant=True, table=True))
            props = [{"id": "displayName", "value": header}, {"id": "unit", "value": unit}]
            if thresholds is not None:
                props += [{"id": "thresholds", "value": thresholds},
                          {"id": "custom.cellOptions", "value": {"type": "color-background", "mode": "basic"}}]
            if mappings:
                props.append({"id": "mappings", "value": mappings})
            overrides.append({"matcher": {"id": "byName", "options": f"Value #{ref}"}, "properties": props})
        transformations = [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": {}, "indexByName": {}}},
        ]
        if sort:  # transformations run before the overrides rename the fields: sort by the field's own name
            ref = chr(ord("A") + [c[0] for c in columns].index(sort))
            transformations.append({"id": "sortBy", "options": {"fields": {},
                                                                "sort": [{"field": f"Value #{ref}", "desc": True}]}})
        return self.add("table", title, targets, w=w, h=h, description=description, overrides=overrides,
                        transformations=transformations)

    def json(self) -> dict:
        requires = [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"},
                    {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}]
        names = {"stat": "Stat", "timeseries": "Time series", "table": "Table", "bargauge": "Bar gauge"}
        requires += [{"type": "panel", "id": k, "name": names[k], "version": ""} for k in sorted(self.types)]
        ds_var = {"name": "DS_PROMETHEUS", "label": "Data source", "type": "datasource", "query": "prometheus",
                  "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1,
                  "regex": "", "skipUrlSync": False}
        return {
            "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource",
                          "pluginId": "prometheus", "pluginName": "Prometheus",
                          "description": "The Prometheus that scrapes patrol serve's /metrics"}],
            "__elements": {},
            "__requires": requires,
            "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                      "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                      "name": "Annotations & Alerts", "type": "dashboard"}]},
            "description": self.description,
            "editable": True,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "id": None,
            "links": [{"title": "Patrol dashboards", "type": "dashboards", "tags": ["patrol"], "asDropdown": True,
                       "includeVars": False, "keepTime": True, "icon": "external link", "targetBlank": False,
                       "tooltip": "", "url": ""}],
            "panels": self.panels,
            "refresh": "1m",
            "schemaVersion": 39,
            "tags": ["patrol", *self.tags],
            "templating": {"list": [ds_var, *self.variables]},
            "time": {"from": "now-24h", "to": "now"},
            "timepicker": {},
            "timezone": "",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
            "weekStart": "",
        }


def var(name: str, label: str, query: str, *, all_: bool = True, multi: bool = True) -> dict:
    v = {"name": name, "label": label, "type": "query", "datasource": DS,
         "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1},
         "definition": query, "refresh": 2, "sort": 1, "regex": "", "hide": 0,
         "includeAll": all_, "multi": multi, "current": {}, "options": [], "skipUrlSync": False}
    if all_:
        v["allValue"] = ".*"
    return v


def status_counts(selector: str) -> list[dict]:
    return [q(f"sum({selector} == bool {code})", name) for code, name in
            ((0, "OK"), (1, "WARNING"), (2, "CRITICAL"), (3, "UNKNOWN"))]


def fixed_colors(pairs: dict[str, str]) -> list[dict]:
    return [{"matcher": {"id": "byName", "options": name},
             "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]}
            for name, color in pairs.items()]


STATUS_COLORS = {"OK": "green", "WARNING": YELLOW, "CRITICAL": "red", "UNKNOWN": "purple", "NODATA": "blue"}


# -- overview -------------------------------------------------------------------------------------

def overview() -> Dashboard:
    d = Dashboard("patrol-overview", "Patrol / Overview",
                  "Patrol's collector at a glance: checks by status, open events, silent agents, the store and "
                  "the ingest of agent pushes (patrol_* metrics of patrol serve's /metrics).",
                  [var("job", "Job", "label_values(patrol_store_up, job)", all_=False, multi=False),
                   var("target", "Target", "label_values(patrol_check_status, target)")], ["overview"])
    sel = 'patrol_check_status{target=~"$target"}'
    d.row("Collector")
    d.add("stat", "Scrape", [q('min(up{job="$job"})', "up", instant=True)], w=4, h=4,
          mappings=onoff("UP", "DOWN"), thresholds=th(RED, (GREEN, 1)),
          description="Whether Prometheus could scrape /metrics (a missing or revoked metrics token is DOWN, 401).")
    d.add("stat", "Store", [q('min(patrol_store_up{job="$job"})', "store", instant=True)], w=4, h=4,
          mappings=onoff("READABLE", "UNREADABLE"), thresholds=th(RED, (GREEN, 1)),
          description="patrol_store_up: 1 when the collector could read its store at the scrape.")
    d.add("stat", "Targets", [q(f"count(count by (target) ({sel}))", "targets", instant=True)], w=4, h=4,
          description="Targets with at least one result in the store.")
    d.add("stat", "Results stored", [q('sum(rate(patrol_ingest_results_total{job="$job"}[$__rate_interval]))',
                                       "results/s")], w=4, h=4, unit="cps",
          description="Results stored from agent pushes, per second (patrol_ingest_results_total).",
          options={"graphMode": "area", "colorMode": "none"})
    d.add("stat", "Rejected batches", [q(
        'sum(increase(patrol_ingest_batches_total{job="$job",outcome="rejected"}[$__range])) or vector(0)',
        "rejected", instant=True)], w=4, h=4, thresholds=th(GREEN, (YELLOW, 1)), decimals=0,
        description="Pushed batches refused (4xx) in the dashboard's time range.")
    d.add("stat", "Batch handling p99", [q(
        'histogram_quantile(0.99, sum by (le) (rate(patrol_ingest_duration_seconds_bucket{job="$job"}'
        '[$__rate_interval])))', "p99")], w=4, h=4, unit="s", options={"graphMode": "area", "colorMode": "none"},
        description="99th percentile of the time to handle one pushed batch (NaN while nothing is pushed).")

    d.row("Checks")
    d.add("stat", "Results by status", status_counts(sel), w=12, h=5, overrides=fixed_colors(STATUS_COLORS),
          options={"colorMode": "background", "textMode": "value_and_name"},
          description="Newest result of every (target, check, item) by status (patrol_check_status).")
    d.add("stat", "Failed collections", [q('sum(patrol_check_collected{target=~"$target"} == bool 0)', "failed",
                                           instant=True)], w=4, h=5, thresholds=th(GREEN, (RED, 1)),
          description="Results whose figures could not be collected (timeout, error, unreachable): "
                      "patrol_check_collected == 0.")
    d.add("bargauge", "Oldest result per target", [q(
        'max by (target) (time() - patrol_check_last_run_timestamp_seconds{target=~"$target"})', "{{target}}",
        instant=True)], w=8, h=10, unit="s", thresholds=upper(900, 3600),
        description="Age of each target's oldest newest-result: over 15 minutes a check has stopped running.")
    d.add("timeseries", "Results not OK", status_counts(sel)[1:], w=16, h=5, overrides=fixed_colors(STATUS_COLORS),
          custom={"stacking": {"mode": "normal", "group": "A"}, "fillOpacity": 30}, decimals=0)
    d.add("table", "Checks not OK (worst first)", [q(f"sort_desc({sel} > 0)", instant=True, table=True)], w=24,
          h=9, mappings=STATUS_MAP, custom={"cellOptions": {"type": "color-background", "mode": "basic"}},
          thresholds=upper(1, 2),
          transformations=[{"id": "organize", "options": {
              "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True},
              "renameByName": {"Value": "status"}, "indexByName": {"target": 0, "check": 1, "item": 2}}}],
          description="Every newest result that is not OK: 1 WARNING, 2 CRITICAL, 3 UNKNOWN.")

    d.row("Events")
    d.add("bargauge", "Open events by severity", [q('sum by (severity) (patrol_events_open{job="$job"})',
                                                    "{{severity}}", instant=True)], w=8, h=6,
          overrides=fixed_colors(STATUS_COLORS), decimals=0,
          description="Open events (firing and acknowledged) by severity (patrol_events_open).")
    d.add("stat", "Unacknowledged events", [q('sum(patrol_events_open{job="$job",state="firing"})', "firing",
                                              instant=True)], w=4, h=6, thresholds=th(GREEN, (RED, 1)),
          description="Open events nobody acknowledged yet (acknowledge within 10 minutes, or they escalate).")
    d.add("stat", "Acknowledged events", [q('sum(patrol_events_open{job="$job",state="acknowledged"})', "acked",
                                            instant=True)], w=4, h=6, thresholds=th(GREEN, (YELLOW, 1)))
    d.add("timeseries", "Open events", [q('sum by (severity, state) (patrol_events_open{job="$job"})',
                                          "{{severity}} {{state}}")], w=8, h=6, decimals=0)

    d.row("Agents")
    silent = ('count((time() - patrol_agent_last_seen_timestamp_seconds{job="$job"} > clamp_min(3 * '
              'patrol_agent_expected_interval_seconds{job="$job"}, 60)) or (patrol_agent_expected_interval_seconds'
              '{job="$job"} unless patrol_agent_last_seen_timestamp_seconds{job="$job"})) or vector(0)')
    d.add("stat", "Agents", [q('count(patrol_agent_results_received_total{job="$job"})', "agents", instant=True)],
          w=4, h=8, description="Agents the collector knows (patrol_agent_results_received_total).")
    d.add("stat", "Silent agents", [q(silent, "silent", instant=True)], w=4, h=8, thresholds=th(GREEN, (RED, 1)),
          description="Agents with a schedule that have not pushed for three expected intervals (at least 60 s, the "
                      "event engine's default nodata rule), or that never pushed.")
    d.table("Agents", [
        ("Last push, seconds ago", 'max by (agent) (time() - patrol_agent_last_seen_timestamp_seconds{job="$job"})',
         "s", None, None),
        ("Expected interval", 'max by (agent) (patrol_agent_expected_interval_seconds{job="$job"})', "s", None, None),
        ("Results in range", 'sum by (agent) (increase(patrol_agent_results_received_total{job="$job"}[$__range]))',
         "short", None, None),
        ("Results since start", 'sum by (agent) (patrol_agent_results_received_total{job="$job"})', "short", None,
         None),
    ], w=16, h=8, description="An agent without a last push never reported; without an expected interval it has no "
                              "scheduled plan.")

    d.row("Ingest")
    d.add("timeseries", "Pushed batches by outcome", [q(
        'sum by (outcome) (rate(patrol_ingest_batches_total{job="$job"}[$__rate_interval]))', "{{outcome}}")],
        w=8, unit="reqps", overrides=fixed_colors({"stored": "green", "duplicate": "blue", "rejected": "red"}),
        description="stored; duplicate (a retried batch id, nothing stored); rejected (4xx).")
    d.add("timeseries", "Results received per agent", [q(
        'sum by (agent) (rate(patrol_agent_results_received_total{job="$job"}[$__rate_interval]))', "{{agent}}")],
        w=8, unit="cps")
    d.add("timeseries", "Batch handling time and size", [
        q('histogram_quantile(0.5, sum by (le) (rate(patrol_ingest_duration_seconds_bucket{job="$job"}'
          '[$__rate_interval])))', "p50 time"),
        q('histogram_quantile(0.99, sum by (le) (rate(patrol_ingest_duration_seconds_bucket{job="$job"}'
          '[$__rate_interval])))', "p99 time"),
        q('histogram_quantile(0.5, sum by (le) (rate(patrol_ingest_batch_size_bucket{job="$job"}'
          '[$__rate_interval])))', "p50 results per batch"),
    ], w=8, unit="s", overrides=[{"matcher": {"id": "byName", "options": "p50 results per batch"},
                                  "properties": [{"id": "unit", "value": "short"},
                                                 {"id": "custom.axisPlacement", "value": "right"}]}])
    return d


# -- hosts ----------------------------------------------------------------------------------------

HOST_CHECKS = "cpu|load|memory|swap|disk|processes|uptime|network_interfaces"


def hosts() -> Dashboard:
    d = Dashboard("patrol-hosts", "Patrol / Hosts",
                  "Host patrol figures (agent or agentless): CPU, load, memory, swap, file systems, processes, "
                  "uptime and network interfaces. Thresholds are the checks' defaults.",
                  [var("target", "Host", f'label_values(patrol_check_status{{check=~"{HOST_CHECKS}"}}, target)')],
                  ["hosts"])
    t = '{target=~"$target"}'
    d.row("Summary")
    d.table("Hosts", [
        ("CPU", f"max by (target) (patrol_cpu_utilisation_ratio{t})", "percentunit", upper(0.8, 0.9), None),
        ("Load 5m per CPU", f"max by (target) (patrol_load_load5{t})", "short", upper(0.7, 1.5), None),
        ("CPUs", f"max by (target) (patrol_load_cpus{t})", "short", None, None),
        ("Memory used", f"max by (target) (patrol_memory_used_ratio{t})", "percentunit", upper(0.85, 0.95), None),
        ("Memory", f"max by (target) (patrol_memory_total_bytes{t})", "bytes", None, None),
        ("Swap free", f"min by (target) (patrol_swap_free_ratio{t})", "percentunit", lower(0.2, 0.5), None),
        ("Fullest file system", f"max by (target) (patrol_disk_used_ratio{t})", "percentunit", upper(0.8, 0.9),
         None),
        ("Zombies", f"max by (target) (patrol_processes_zombies{t})", "short", upper(1, 11), None),
        ("Uptime", f"max by (target) (patrol_uptime_uptime_seconds{t})", "dtdurations", th(RED, (GREEN, 600)), None),
    ], sort="CPU", h=8, description="One row per host: the newest figure of each check (a host without swap has no "
                                    "swap free).")
    d.row("CPU and load")
    d.add("timeseries", "CPU utilisation", [q(f"patrol_cpu_utilisation_ratio{t}", "{{target}}")], w=12,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.8, 0.9),
          description="Share of CPU time not idle and not waiting for I/O; warning 80 %, critical 90 %.")
    d.add("timeseries", "CPU time by kind", [
        q(f"patrol_cpu_user_ratio{t}", "{{target}} user"),
        q(f"patrol_cpu_system_ratio{t}", "{{target}} system"),
        q(f"patrol_cpu_iowait_ratio{t}", "{{target}} iowait"),
        q(f"patrol_cpu_steal_ratio{t}", "{{target}} steal"),
    ], w=12, unit="percentunit", min_=0, max_=1,
        description="iowait warns at 20 %, steal at 10 % (where the OS reports them).")
    d.add("timeseries", "Load per CPU", [
        q(f"patrol_load_load1{t}", "{{target}} 1m"),
        q(f"patrol_load_load5{t}", "{{target}} 5m"),
        q(f"patrol_load_load15{t}", "{{target}} 15m"),
    ], w=24, thresholds=upper(0.7, 1.5), description="Load average divided by the logical CPUs; warning 0.7, "
                                                      "critical 1.5.")
    d.row("Memory and swap")
    d.add("timeseries", "Memory used", [q(f"patrol_memory_used_ratio{t}", "{{target}}")], w=12, unit="percentunit",
          min_=0, max_=1, thresholds=upper(0.85, 0.95),
          description="Memory not available for new allocations (MemAvailable based); warning 85 %, critical 95 %.")
    d.add("timeseries", "Memory available", [
        q(f"patrol_memory_available_bytes{t}", "{{target}} available"),
        q(f"patrol_memory_total_bytes{t}", "{{target}} total"),
    ], w=12, unit="bytes")
    d.add("timeseries", "Swap free", [q(f"patrol_swap_free_ratio{t}", "{{target}}")], w=12, unit="percentunit",
          min_=0, max_=1, thresholds=lower(0.2, 0.5),
          description="Swap free, of total: warning below 50 %, critical below 20 %. Hosts without swap have no "
                      "line.")
    d.add("timeseries", "Swap used", [
        q(f"patrol_swap_used_bytes{t}", "{{target}} used"),
        q(f"patrol_swap_total_bytes{t}", "{{target}} total"),
    ], w=12, unit="bytes")
    d.row("File systems")
    d.add("bargauge", "Space used", [q(f"sort_desc(patrol_disk_used_ratio{t})", "{{target}} {{item}}",
                                       instant=True)], w=12, h=10, unit="percentunit", min_=0, max_=1,
          thresholds=upper(0.8, 0.9), description="Per mount point, as df shows it; warning 80 %, critical 90 %.")
    d.add("bargauge", "Inodes free", [q(f"sort(patrol_disk_inodes_free_ratio{t})", "{{target}} {{item}}",
                                        instant=True)], w=12, h=10, unit="percentunit", min_=0, max_=1,
          thresholds=lower(0.1, 0.2), description="Warning below 20 %, critical below 10 % (absent where the file "
                                                  "system has no inode limit).")
    d.table("File systems", [
        ("Used", f"max by (target, item) (patrol_disk_used_ratio{t})", "percentunit", upper(0.8, 0.9), None),
        ("Free", f"max by (target, item) (patrol_disk_free_bytes{t})", "bytes", None, None),
        ("Size", f"max by (target, item) (patrol_disk_total_bytes{t})", "bytes", None, None),
        ("Inodes free", f"min by (target, item) (patrol_disk_inodes_free_ratio{t})", "percentunit",
         lower(0.1, 0.2), None),
    ], keep=("target", "item"), w=12, sort="Used")
    d.add("timeseries", "Free space", [q(f"patrol_disk_free_bytes{t}", "{{target}} {{item}}")], w=12,
          unit="bytes", description="Space available to unprivileged users: watch the trend for days until full.")
    d.row("Processes and uptime")
    d.add("timeseries", "Processes", [q(f"patrol_processes_total_value{t}", "{{target}}")], w=8, decimals=0)
    d.add("timeseries", "Zombie processes", [q(f"patrol_processes_zombies{t}", "{{target}}")], w=8,
          thresholds=upper(1, 11), decimals=0, description="Warning at any zombie, critical above 10.")
    d.add("bargauge", "Processes of pid_max", [q(f"patrol_processes_pid_usage_ratio{t}", "{{target}}",
                                                 instant=True)], w=8, unit="percentunit", min_=0, max_=1,
          thresholds=upper(0.8, 0.9), description="Process count as a share of kernel.pid_max; warning 80 %.")
    d.add("table", "Required processes", [q(f"patrol_processes_count_value{t}", instant=True, table=True)], w=12,
          thresholds=th(RED, (GREEN, 1)), custom={"cellOptions": {"type": "color-background", "mode": "basic"}},
          transformations=[{"id": "organize", "options": {
              "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True, "check": True},
              "renameByName": {"item": "process", "Value": "running"}, "indexByName": {}}}],
          description="Processes matching each required name (processes: {required: [...]}); 0 is CRITICAL.")
    d.add("bargauge", "Uptime", [q(f"patrol_uptime_uptime_seconds{t}", "{{target}}", instant=True)], w=12,
          unit="dtdurations", thresholds=th(RED, (GREEN, 600)),
          description="Time since boot; under 10 minutes is a recent reboot (warning).")
    d.row("Network interfaces")
    d.add("timeseries", "Received", [q(f"patrol_network_interfaces_rx_bytes_per_second{t}", "{{target}} {{item}}")],
          w=12, unit="Bps")
    d.add("timeseries", "Sent", [q(f"patrol_network_interfaces_tx_bytes_per_second{t}", "{{target}} {{item}}")],
          w=12, unit="Bps")
    d.add("timeseries", "Errors", [q(f"patrol_network_interfaces_errors_per_second{t}", "{{target}} {{item}}")],
          w=8, unit="short", thresholds=upper(1, 10), description="Receive and transmit errors per second; warning "
                                                                  "1/s, critical 10/s.")
    d.add("timeseries", "Drops", [q(f"patrol_network_interfaces_drops_per_second{t}", "{{target}} {{item}}")],
          w=8, unit="short", thresholds=upper(10, 100), description="Dropped packets per second; warning 10/s, "
                                                                    "critical 100/s.")
    d.add("bargauge", "Link utilisation", [q(f"patrol_network_interfaces_utilisation_ratio{t}",
                                             "{{target}} {{item}}", instant=True)], w=8, unit="percentunit",
          min_=0, max_=1, thresholds=upper(0.9, 1.0),
          description="Busier direction's throughput of the link speed (where the speed is known); warning 90 %.")
    d.add("table", "Link state", [q(f"patrol_network_interfaces_up{t}", instant=True, table=True)], w=24, h=6,
          mappings=onoff("up", "down"), custom={"cellOptions": {"type": "color-background", "mode": "basic"}},
          transformations=[{"id": "organize", "options": {
              "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True, "check": True},
              "renameByName": {"item": "interface", "Value": "link"}, "indexByName": {}}}])
    return d


# -- network --------------------------------------------------------------------------------------

def network() -> Dashboard:
    d = Dashboard("patrol-network", "Patrol / Network",
                  "Network devices over SNMP (system, interfaces, device CPU and memory) and links measured by "
                  "ping, tcp_connect and http.",
                  [var("device", "Device", 'label_values(patrol_check_status{check=~"snmp_.*"}, target)'),
                   var("prober", "Link prober",
                       'label_values(patrol_check_status{check=~"ping|tcp_connect|http"}, target)')],
                  ["network"])
    dv = '{target=~"$device"}'
    pr = '{target=~"$prober"}'
    d.row("Devices (SNMP)")
    d.table("Devices", [
        ("Answers SNMP", f"max by (target) (patrol_snmp_system_up{dv})", "short", th(RED, (GREEN, 1)),
         onoff("yes", "no")),
        ("Uptime", f"max by (target) (patrol_snmp_system_uptime_seconds{dv})", "dtdurations", th(RED, (GREEN, 600)),
         None),
        ("CPU", f"max by (target) (patrol_snmp_device_cpu_used_ratio{dv})", "percentunit", upper(0.8, 0.9), None),
        ("Memory", f"max by (target) (patrol_snmp_device_memory_used_ratio{dv})", "percentunit", upper(0.85, 0.95),
         None),
        ("Interfaces", f"count by (target) (patrol_snmp_interfaces_up{dv})", "short", None, None),
        ("Interfaces not up", f"sum by (target) (patrol_snmp_interfaces_up{dv} == bool 0)", "short",
         th(GREEN, (YELLOW, 1)), None),
    ], w=24, description="sysUpTime under 10 minutes is a reboot (warning); device CPU warns at 80 %, memory at 85 %.")
    d.add("timeseries", "Device CPU", [q(f"patrol_snmp_device_cpu_used_ratio{dv}", "{{target}}")], w=12,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.8, 0.9))
    d.add("timeseries", "Device memory", [q(f"patrol_snmp_device_memory_used_ratio{dv}", "{{target}}")], w=12,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.85, 0.95))
    d.row("Interfaces (SNMP)")
    d.add("bargauge", "Busiest interfaces", [q(f"topk(15, patrol_snmp_interfaces_utilisation_ratio{dv})",
                                               "{{target}} {{item}}", instant=True)], w=12, h=10,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.9, 1.0),
          description="Busier direction's throughput of ifHighSpeed; warning 90 %.")
    d.add("table", "Interfaces not up", [q(
        f'patrol_check_status{{check="snmp_interfaces",target=~"$device"}} and on (target, item) '
        f"(patrol_snmp_interfaces_up{dv} == 0)", instant=True, table=True)], w=12, h=10, mappings=STATUS_MAP,
        custom={"cellOptions": {"type": "color-background", "mode": "basic"}}, thresholds=upper(1, 2),
        transformations=[{"id": "organize", "options": {
            "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True, "check": True},
            "renameByName": {"item": "interface", "Value": "status"}, "indexByName": {}}}],
        description="Interfaces whose ifOperStatus is not up, with their status: OK when administratively down, "
                    "CRITICAL when down while admin up.")
    d.add("timeseries", "Inbound", [q(f"patrol_snmp_interfaces_rx_bytes_per_second{dv}", "{{target}} {{item}}")],
          w=12, unit="Bps")
    d.add("timeseries", "Outbound", [q(f"patrol_snmp_interfaces_tx_bytes_per_second{dv}", "{{target}} {{item}}")],
          w=12, unit="Bps")
    d.add("timeseries", "Errors", [q(f"patrol_snmp_interfaces_errors_per_second{dv}", "{{target}} {{item}}")],
          w=12, thresholds=upper(1, 10), description="ifInErrors + ifOutErrors per second; warning 1/s, "
                                                     "critical 10/s.")
    d.add("timeseries", "Discards", [q(f"patrol_snmp_interfaces_discards_per_second{dv}", "{{target}} {{item}}")],
          w=12, thresholds=upper(10, 100), description="ifInDiscards + ifOutDiscards per second; warning 10/s, "
                                                       "critical 100/s.")
    d.row("Links: ping")
    d.table("Ping", [
        ("Loss", f"max by (target, item) (patrol_ping_loss_ratio{pr})", "percentunit", upper(0.2, 0.6), None),
        ("RTT avg", f"max by (target, item) (patrol_ping_rtt_avg_seconds{pr})", "s", None, None),
        ("RTT max", f"max by (target, item) (patrol_ping_rtt_max_seconds{pr})", "s", None, None),
        ("Jitter", f"max by (target, item) (patrol_ping_jitter_seconds{pr})", "s", None, None),
        ("Received", f"max by (target, item) (patrol_ping_received{pr})", "short", None, None),
        ("Sent", f"max by (target, item) (patrol_ping_sent{pr})", "short", None, None),
    ], keep=("target", "item"), w=24, h=7, sort="Loss",
        description="target: the host that pings; item: the host pinged. Loss warns above 20 %, is critical above "
                    "60 % (100 % always).")
    d.add("timeseries", "Packet loss", [q(f"patrol_ping_loss_ratio{pr}", "{{target}} → {{item}}")], w=8,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.2, 0.6))
    d.add("timeseries", "Round-trip time", [q(f"patrol_ping_rtt_avg_seconds{pr}", "{{target}} → {{item}}")], w=8,
          unit="s")
    d.add("timeseries", "Jitter", [q(f"patrol_ping_jitter_seconds{pr}", "{{target}} → {{item}}")], w=8, unit="s")
    d.row("Links: TCP and HTTP")
    d.add("table", "TCP endpoints", [q(f"patrol_tcp_connect_reachable{pr}", instant=True, table=True)], w=8, h=8,
          mappings=onoff("reachable", "unreachable"),
          custom={"cellOptions": {"type": "color-background", "mode": "basic"}},
          transformations=[{"id": "organize", "options": {
              "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True, "check": True},
              "renameByName": {"item": "endpoint", "Value": "state"}, "indexByName": {}}}])
    d.add("timeseries", "TCP connect time", [q(f"patrol_tcp_connect_connect_time_seconds{pr}",
                                               "{{target}} → {{item}}")], w=16, unit="s")
    d.table("HTTP endpoints", [
        ("Status code", f"max by (target, item) (patrol_http_status_code{pr})", "none",
         th(RED, (GREEN, 200), (YELLOW, 300), (RED, 400)), None),
        ("Response time", f"max by (target, item) (patrol_http_response_time_seconds{pr})", "s", None, None),
        ("Body", f"max by (target, item) (patrol_http_size_bytes{pr})", "bytes", None, None),
        ("Certificate expires in", f"min by (target, item) (patrol_http_cert_expires_in_seconds{pr})", "dtdurations",
         lower(7 * DAY, 30 * DAY), None),
    ], keep=("target", "item"), w=24, h=7,
        description="item: the URL. Certificates warn with less than 30 days left and are critical under 7 days "
                    "(HTTPS with verification only).")
    d.add("timeseries", "HTTP response time", [q(f"patrol_http_response_time_seconds{pr}", "{{target}} → {{item}}")],
          w=12, unit="s")
    d.add("timeseries", "HTTP phases", [
        q(f"patrol_http_connect_time_seconds{pr}", "{{item}} connect"),
        q(f"patrol_http_tls_time_seconds{pr}", "{{item}} TLS"),
        q(f"patrol_http_first_byte_time_seconds{pr}", "{{item}} first byte"),
    ], w=12, unit="s")
    d.add("bargauge", "Certificates expire in", [q(f"sort(patrol_http_cert_expires_in_seconds{pr})", "{{item}}",
                                                   instant=True)], w=24, h=6, unit="dtdurations",
          thresholds=lower(7 * DAY, 30 * DAY))
    return d


# -- databases and middleware ---------------------------------------------------------------------

DB_MW = "postgres_.*|mysql_.*|oracle_.*|tomcat_.*|jolokia|weblogic_.*"


def databases() -> Dashboard:
    d = Dashboard("patrol-databases-middleware", "Patrol / Databases and middleware",
                  "PostgreSQL, MySQL/MariaDB and Oracle patrol figures, Tomcat, JVMs through Jolokia and WebLogic's "
                  "REST API. Thresholds are the checks' defaults.",
                  [var("target", "Instance", f'label_values(patrol_check_status{{check=~"{DB_MW}"}}, target)')],
                  ["databases", "middleware"])
    t = '{target=~"$target"}'
    leg = "{{target}} {{item}}"
    d.row("PostgreSQL")
    d.add("bargauge", "Connections used", [q(f"patrol_postgres_connections_used_ratio{t}", "{{target}}",
                                             instant=True)], w=8, unit="percentunit", min_=0, max_=1,
          thresholds=upper(0.9, 0.95), description="Client connections of max_connections; warning 90 %, critical "
                                                   "95 %.")
    d.add("timeseries", "Connections", [
        q(f"patrol_postgres_connections_connections{t}", "{{target}} connections"),
        q(f"patrol_postgres_connections_max_connections{t}", "{{target}} max_connections"),
    ], w=8, decimals=0)
    d.add("bargauge", "Database sizes", [q(f"sort_desc(patrol_postgres_databases_size_bytes{t})", leg,
                                           instant=True)], w=8, unit="bytes")
    d.add("timeseries", "Database size", [q(f"patrol_postgres_databases_size_bytes{t}", leg)], w=8, unit="bytes",
          description="pg_database_size: the growth for capacity planning.")
    d.add("bargauge", "Tablespaces", [q(f"patrol_postgres_tablespaces_size_bytes{t}", leg, instant=True)], w=8,
          unit="bytes")
    d.add("bargauge", "Tablespace file systems used", [q(f"patrol_postgres_tablespaces_used_ratio{t}", leg,
                                                         instant=True)], w=8, unit="percentunit", min_=0, max_=1,
          thresholds=upper(0.8, 0.9), description="The file system holding each tablespace (when the check runs on "
                                                  "the database host); warning 80 %, critical 90 %.")
    d.add("timeseries", "Oldest open transaction", [q(f"patrol_postgres_long_transactions_oldest_seconds{t}",
                                                      "{{target}}")], w=8, unit="s", thresholds=upper(1800, 3600),
          description="Warning at 30 minutes, critical at 1 hour.")
    d.add("timeseries", "Lock waits", [
        q(f"patrol_postgres_locks_longest_wait_seconds{t}", "{{target}} longest wait"),
        q(f"patrol_postgres_locks_blocked{t}", "{{target}} blocked sessions"),
    ], w=8, unit="s", thresholds=upper(60, 120),
        overrides=[{"matcher": {"id": "byRegexp", "options": ".*blocked sessions"},
                    "properties": [{"id": "unit", "value": "short"}, {"id": "custom.axisPlacement", "value": "right"},
                                   {"id": "custom.thresholdsStyle", "value": {"mode": "off"}}]}],
        description="Longest lock wait: warning 1 minute, critical 2 minutes.")
    d.add("bargauge", "Transaction ID age (wraparound)", [q(f"patrol_postgres_wraparound_xid_age{t}", leg,
                                                            instant=True)], w=8, min_=0, max_=2**31,
          thresholds=upper(1.3e9, 1.4e9), description="age(datfrozenxid) per database; warning 1.3 billion, critical "
                                                      "1.4 billion (wraparound at 2^31).")
    d.add("timeseries", "Replication lag", [q(f"patrol_postgres_replication_lag_seconds{t}", leg)], w=8, unit="s",
          thresholds=upper(1800, 3600), description="Replay lag; warning 30 minutes, critical 1 hour.")
    d.add("timeseries", "Replication lag (WAL)", [q(f"patrol_postgres_replication_lag_bytes{t}", leg)], w=8,
          unit="bytes")
    d.add("stat", "Streaming", [q(f"patrol_postgres_replication_streaming{t}", leg, instant=True)], w=4,
          mappings=onoff("streaming", "not streaming"), thresholds=th(RED, (GREEN, 1)))
    d.add("stat", "WAL archiving", [q(f"patrol_postgres_archiving_failing{t}", "{{target}}", instant=True)], w=4,
          mappings=onoff("FAILING", "ok", one_color="red", zero_color="green"), thresholds=th(GREEN, (RED, 1)),
          description="1 when the last archive attempt failed (pg_stat_archiver).")
    d.add("timeseries", "WAL files archived / failed", [
        q(f"patrol_postgres_archiving_archived{t}", "{{target}} archived"),
        q(f"patrol_postgres_archiving_failed{t}", "{{target}} failed"),
    ], w=8, decimals=0, description="Counts since the statistics were last reset.")

    d.row("MySQL / MariaDB")
    d.add("bargauge", "Connections used", [q(f"patrol_mysql_connections_used_ratio{t}", "{{target}}",
                                             instant=True)], w=8, unit="percentunit", min_=0, max_=1,
          thresholds=upper(0.7, 0.9), description="Threads_connected of max_connections; warning 70 %, critical 90 %.")
    d.add("timeseries", "Threads", [
        q(f"patrol_mysql_connections_connections{t}", "{{target}} connected"),
        q(f"patrol_mysql_connections_running{t}", "{{target}} running"),
        q(f"patrol_mysql_connections_max_used{t}", "{{target}} max used"),
        q(f"patrol_mysql_connections_max_connections{t}", "{{target}} max_connections"),
    ], w=16, decimals=0)
    d.add("timeseries", "Slow queries", [q(f"patrol_mysql_slow_queries_slow_queries_per_second{t}", "{{target}}")],
          w=8, unit="qps", thresholds=upper(0.1, 1), description="Warning 0.1/s, critical 1/s.")
    d.add("timeseries", "Deadlocks", [q(f"patrol_mysql_slow_queries_deadlocks_per_second{t}", "{{target}}")], w=8,
          unit="short", thresholds=th(GREEN, (YELLOW, 0.0001)), description="InnoDB deadlocks per second; any warns.")
    d.add("stat", "Replication", [q(f"patrol_mysql_replication_running{t}", leg, instant=True)], w=8,
          mappings=onoff("running", "STOPPED"), thresholds=th(RED, (GREEN, 1)),
          description="1 when both replica threads run.")
    d.add("timeseries", "Replication lag", [q(f"patrol_mysql_replication_lag_seconds{t}", leg)], w=8, unit="s",
          thresholds=upper(1800, 3600), description="Seconds_Behind_Source; warning 30 minutes, critical 1 hour.")
    d.add("bargauge", "Schema sizes", [q(f"sort_desc(patrol_mysql_tablespaces_size_bytes{t})", leg, instant=True)],
          w=8, unit="bytes", description="Data + index size per schema.")
    d.add("bargauge", "InnoDB tablespace files", [q(f"sort_desc(patrol_mysql_tablespaces_file_size_bytes{t})", leg,
                                                    instant=True)], w=8, unit="bytes")

    d.row("Oracle")
    d.add("bargauge", "Tablespaces used (autoextend honoured)", [
        q(f"sort_desc(patrol_oracle_tablespaces_used_ratio{t})", leg, instant=True)], w=12, h=10,
        unit="percentunit", min_=0, max_=1, thresholds=upper(0.85, 0.95),
        description="Used space of the size each tablespace may grow to; warning 85 %, critical 95 % (TEMP and UNDO "
                    "warn at 90 %).")
    d.table("Tablespaces", [
        ("Used", f"max by (target, item) (patrol_oracle_tablespaces_used_ratio{t})", "percentunit",
         upper(0.85, 0.95), None),
        ("Used bytes", f"max by (target, item) (patrol_oracle_tablespaces_used_bytes{t})", "bytes", None, None),
        ("Allocated", f"max by (target, item) (patrol_oracle_tablespaces_allocated_bytes{t})", "bytes", None, None),
        ("May grow to", f"max by (target, item) (patrol_oracle_tablespaces_max_bytes{t})", "bytes", None, None),
    ], keep=("target", "item"), w=12, h=10, sort="Used")
    d.add("bargauge", "Sessions and processes of their limit", [q(f"patrol_oracle_sessions_used_ratio{t}", leg,
                                                                  instant=True)], w=8, unit="percentunit", min_=0,
          max_=1, thresholds=upper(0.8, 0.99), description="v$resource_limit; warning 80 %, critical 99 %.")
    d.add("bargauge", "Recovery area (FRA) used", [q(f"patrol_oracle_fra_used_ratio{t}", leg, instant=True)], w=8,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.9, 0.98),
          description="Used less reclaimable, of db_recovery_file_dest_size; warning 90 %, critical 98 %.")
    d.add("timeseries", "Blocking sessions", [
        q(f"patrol_oracle_blocking_longest_wait_seconds{t}", "{{target}} longest wait"),
        q(f"patrol_oracle_blocking_blocked{t}", "{{target}} blocked sessions"),
    ], w=8, unit="s", thresholds=upper(60, 120),
        overrides=[{"matcher": {"id": "byRegexp", "options": ".*blocked sessions"},
                    "properties": [{"id": "unit", "value": "short"}, {"id": "custom.axisPlacement", "value": "right"},
                                   {"id": "custom.thresholdsStyle", "value": {"mode": "off"}}]}],
        description="Longest wait of a blocked session: warning 1 minute, critical 2 minutes.")
    d.add("stat", "Invalid objects", [q(f"patrol_oracle_invalid_objects_invalid{t}", leg, instant=True)], w=8,
          thresholds=th(GREEN, (YELLOW, 1)), decimals=0)
    d.add("stat", "Alert log ORA- errors", [q(f"patrol_oracle_alert_log_errors{t}", "{{target}}", instant=True)],
          w=8, thresholds=th(GREEN, (YELLOW, 1)), decimals=0,
          description="ORA- entries in the alert log window (some codes are always critical: the check's status).")
    d.add("timeseries", "Data Guard lag", [q(f"patrol_oracle_dataguard_lag_seconds{t}", leg)], w=8, unit="s",
          thresholds=upper(1800, 3600), description="Transport and apply lag; warning 30 minutes, critical 1 hour.")

    d.row("Tomcat")
    d.add("bargauge", "Request threads busy", [q(f"patrol_tomcat_threads_busy_ratio{t}", leg, instant=True)], w=8,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.75, 0.9),
          description="currentThreadsBusy of maxThreads per connector; warning 75 %, critical 90 %.")
    d.add("timeseries", "Request threads", [
        q(f"patrol_tomcat_threads_busy_threads{t}", leg + " busy"),
        q(f"patrol_tomcat_threads_current_threads{t}", leg + " in pool"),
        q(f"patrol_tomcat_threads_max_threads{t}", leg + " max"),
    ], w=16, decimals=0)
    d.add("bargauge", "Heap used", [q('patrol_tomcat_memory_used_ratio{target=~"$target",item="heap"}',
                                      "{{target}}", instant=True)], w=8, unit="percentunit", min_=0, max_=1,
          thresholds=upper(0.85, 0.95), description="JVM heap of -Xmx; warning 85 %, critical 95 %.")
    d.add("timeseries", "Heap", [
        q('patrol_tomcat_memory_used_size_bytes{target=~"$target",item="heap"}', "{{target}} used"),
        q('patrol_tomcat_memory_committed_size_bytes{target=~"$target",item="heap"}', "{{target}} committed"),
        q('patrol_tomcat_memory_max_size_bytes{target=~"$target",item="heap"}', "{{target}} max"),
    ], w=16, unit="bytes")

    d.row("JVM (Jolokia)")
    d.add("bargauge", "Thread pools busy", [q(f"patrol_jolokia_thread_busy_ratio{t}", leg, instant=True)], w=8,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.75, 0.9))
    d.add("bargauge", "Heap used", [q(f"patrol_jolokia_heap_used_ratio{t}", "{{target}}", instant=True)], w=8,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.85, 0.95))
    d.add("bargauge", "JDBC pools active", [q(f"patrol_jolokia_jdbc_active_ratio{t}", leg, instant=True)], w=8,
          unit="percentunit", min_=0, max_=1, thresholds=upper(0.8, 0.95))
    d.add("timeseries", "GC time", [q(f"patrol_jolokia_gc_time_ratio{t}", leg)], w=8, unit="percentunit", min_=0,
          description="Share of wall time spent in each collector between polls.")
    d.add("timeseries", "GC collections", [q(f"patrol_jolokia_gc_collections_per_second{t}", leg)], w=8,
          unit="short")
    d.add("timeseries", "Threads", [
        q(f"patrol_jolokia_jvm_threads{t}", "{{target}} JVM threads"),
        q(f"patrol_jolokia_stuck_threads{t}", leg + " stuck"),
        q(f"patrol_jolokia_hogging_threads{t}", leg + " hogging"),
    ], w=8, decimals=0, description="Stuck and hogging threads come from the weblogic profile.")

    d.row("WebLogic (REST management)")
    d.add("timeseries", "Stuck threads", [q(f"patrol_weblogic_threads_stuck_threads{t}", leg)], w=8,
          thresholds=upper(1, 6), decimals=0, description="Warning at any stuck thread, critical above 5.")
    d.add("timeseries", "Hogging threads and pending requests", [
        q(f"patrol_weblogic_threads_hogging_threads{t}", leg + " hogging"),
        q(f"patrol_weblogic_threads_pending_requests{t}", leg + " pending"),
        q(f"patrol_weblogic_threads_idle_threads{t}", leg + " idle"),
    ], w=8, decimals=0)
    d.add("bargauge", "JDBC data sources active", [q(f"patrol_weblogic_jdbc_active_ratio{t}", leg, instant=True)],
          w=8, unit="percentunit", min_=0, max_=1, thresholds=upper(0.8, 0.95),
          description="Active connections of maxCapacity; warning 80 %, critical 95 %.")
    d.add("timeseries", "JDBC waiting and leaked", [
        q(f"patrol_weblogic_jdbc_waiting{t}", leg + " waiting"),
        q(f"patrol_weblogic_jdbc_leaked{t}", leg + " leaked"),
    ], w=24, h=6, decimals=0, thresholds=th(GREEN, (YELLOW, 1)))
    return d


# -- backups --------------------------------------------------------------------------------------

BACKUP_CHECKS = "backup_files|backup_log|restic|borg|pgbackrest|oracle_rman"


def either(*families: str, selector: str = '{target=~"$target"}') -> str:
    return " or ".join(f"{f}{selector}" for f in families)


def backups() -> Dashboard:
    d = Dashboard("patrol-backups", "Patrol / Backups",
                  "Backup jobs: age of the last successful backup, last status, size and duration, from "
                  "backup_files, backup_log, restic, borg, pgbackrest and oracle_rman.",
                  [var("target", "Host", f'label_values(patrol_check_status{{check=~"{BACKUP_CHECKS}"}}, target)')],
                  ["backups"])
    sel = f'patrol_check_status{{check=~"{BACKUP_CHECKS}",target=~"$target"}}'
    ages = either("patrol_backup_files_age_seconds", "patrol_backup_log_age_seconds", "patrol_restic_age_seconds",
                  "patrol_borg_age_seconds", "patrol_pgbackrest_age_seconds", "patrol_oracle_rman_age_seconds")
    sizes = either("patrol_backup_files_size_bytes", "patrol_restic_size_bytes", "patrol_borg_size_bytes",
                   "patrol_pgbackrest_size_bytes", "patrol_oracle_rman_size_bytes")
    durations = either("patrol_restic_duration_seconds", "patrol_borg_duration_seconds",
                       "patrol_pgbackrest_duration_seconds", "patrol_oracle_rman_duration_seconds")
    counts = either("patrol_backup_files_files", "patrol_restic_snapshots", "patrol_borg_archives",
                    "patrol_pgbackrest_backups")
    leg = "{{target}} {{check}} {{item}}"
    d.row("Status")
    d.add("stat", "Backup jobs by status", status_counts(sel), w=12, h=5, overrides=fixed_colors(STATUS_COLORS),
          options={"textMode": "value_and_name"})
    d.add("stat", "Failed collections", [q(
        f'sum(patrol_check_collected{{check=~"{BACKUP_CHECKS}",target=~"$target"}} == bool 0)', "failed",
        instant=True)], w=4, h=5, thresholds=th(GREEN, (RED, 1)),
        description="Backup checks that could not read their source (tool error, wrong password, missing log).")
    d.add("stat", "Failed RMAN jobs", [q("sum(patrol_oracle_rman_failed{target=~\"$target\"}) or vector(0)",
                                        "failed", instant=True)], w=4, h=5, thresholds=th(GREEN, (RED, 1)),
          decimals=0, description="Failed RMAN backup jobs within the check's window (v$rman_status).")
    d.add("stat", "pgBackRest stanzas not ok", [q(
        'count(patrol_pgbackrest_status_code{target=~"$target"} != 0) or vector(0)', "not ok", instant=True)],
        w=4, h=5, thresholds=th(GREEN, (RED, 1)), decimals=0,
        description="Stanzas whose pgbackrest info status code is not 0.")
    d.table("Backup jobs", [
        ("Status", f"max by (target, check, item) ({sel})", "none", upper(1, 2), STATUS_MAP),
        ("Age of last success", f"max by (target, check, item) ({ages})", "dtdurations", upper(DAY, 93600), None),
        ("Size", f"max by (target, check, item) ({sizes})", "bytes", None, None),
        ("Duration", f"max by (target, check, item) ({durations})", "s", None, None),
        ("Backups kept", f"max by (target, check, item) ({counts})", "short", None, None),
    ], keep=("target", "check", "item"), w=24, h=10, sort="Age of last success",
        description="One row per job (item). Age: critical after 26 h (the daily-job default of every backup check; "
                    "oracle_rman warns at 26 h, critical at 48 h), yellow from 24 h.")
    d.add("bargauge", "Age of the last successful backup", [q(f"sort_desc({ages})", leg, instant=True)], w=24, h=10,
          unit="dtdurations", thresholds=upper(DAY, 93600))
    d.row("Size")
    d.add("timeseries", "Backup size", [q(sizes, leg)], w=12, unit="bytes",
          description="A sudden drop in size is suspicious.")
    d.add("bargauge", "Size change against the previous file", [q(
        'patrol_backup_files_size_change_ratio{target=~"$target"}', leg, instant=True)], w=12, unit="percentunit",
        min_=-1, max_=1, thresholds=th(RED, (GREEN, -0.2)),
        description="backup_files: the newest file against the one before it; warning when 20 % or more smaller.")
    d.add("timeseries", "Repository growth", [q(either("patrol_borg_deduplicated_size_bytes",
                                                       "patrol_pgbackrest_repo_size_bytes"), leg)], w=12,
          unit="bytes", description="What the last backup added to the repository (borg deduplicated size, "
                                    "pgBackRest repo delta).")
    d.add("timeseries", "Backup duration", [q(durations, leg)], w=12, unit="s")
    d.row("pgBackRest and RMAN")
    d.table("pgBackRest: last backup by type", [
        ("Any", 'max by (target, item) (patrol_pgbackrest_age_seconds{target=~"$target"})', "dtdurations",
         upper(DAY, 93600), None),
        ("Full", 'max by (target, item) (patrol_pgbackrest_full_age_seconds{target=~"$target"})', "dtdurations",
         upper(7 * DAY, 8 * DAY), None),
        ("Differential", 'max by (target, item) (patrol_pgbackrest_diff_age_seconds{target=~"$target"})',
         "dtdurations", None, None),
        ("Incremental", 'max by (target, item) (patrol_pgbackrest_incr_age_seconds{target=~"$target"})',
         "dtdurations", None, None),
        ("Status code", 'max by (target, item) (patrol_pgbackrest_status_code{target=~"$target"})', "none",
         th(GREEN, (RED, 1)), None),
    ], keep=("target", "item"), w=12, h=8,
        description="Age of the last backup of each type; full backups are critical after 8 days (weekly fulls).")
    d.add("bargauge", "RMAN: last successful backup", [q('patrol_oracle_rman_age_seconds{target=~"$target"}', leg,
                                                         instant=True)], w=12, h=8, unit="dtdurations",
          thresholds=upper(93600, 172800),
          description="Per backup type (v$rman_backup_job_details); database backups warn at 26 h, critical at 48 h.")
    return d


def dashboards() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {
        f"{name}.json": json.dumps(build().json(), indent=2, ensure_ascii=False) + "\n"
        for name, build in (("overview", overview), ("hosts", hosts), ("network", network),
                            ("databases-middleware", databases), ("backups", backups))
    }


def main(out: Path = OUT) -> None:
    out.mkdir(exist_ok=True)
    for name, text in dashboards().items():
        (out / name).write_text(text, encoding="utf-8")
        print(name, len(text))


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
