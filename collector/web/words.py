"""The console's wording in English and Chinese (zh-CN), chosen per user (``patrol user add --lang``, or
the Account page). Statuses, check names and figures stay as the checks write them."""

from __future__ import annotations

_EN = {
    "title": "Patrol console",
    "overview": "Overview", "events": "Events", "targets": "Targets", "patrols": "Patrols and reports",
    "maintenance": "Maintenance", "users": "Users", "tokens": "API tokens", "account": "Account",
    "sign_in": "Sign in", "sign_out": "Sign out", "user_name": "User name", "password": "Password",
    "signed_in_as": "Signed in as", "role": "Role", "language": "Language",
    "login_failed": "Wrong user name or password.",
    "login_locked": "Too many failed logins: try again in {minutes} minutes, or ask an admin to unlock the account.",
    "login_throttled": "Too many failed logins from this address: wait {minutes} minutes.",
    "login_expired": "The sign-in form expired: please sign in again.",
    "no_users": "No user can sign in yet. On the collector host: patrol user add NAME --role admin",
    "forbidden": "Your role ({role}) may not do this; it needs {needed}.",
    "csrf_failed": "The form was not sent by this console (missing or wrong form token): nothing was changed.",
    "not_found": "Not found",
    "targets_by_category": "Targets by category and health", "category": "Category", "health": "Health",
    "open_events": "Open events", "by_severity": "Open events by severity", "silent_agents": "Silent agents",
    "no_silent_agents": "Every agent reported within its interval.", "last_patrols": "Last patrols",
    "agent": "Agent", "last_seen": "Last seen", "never": "never", "interval": "Expected every",
    "severity": "Severity", "state": "State", "target": "Target", "check": "Check", "item": "Item",
    "summary": "Summary", "opened": "Opened", "count": "Results", "acknowledged_by": "Acknowledged by",
    "filter": "Filter", "sort": "Sort by", "newest": "newest first", "most_severe": "most severe first",
    "by_target": "target", "all": "all", "no_events": "No events match.",
    "acknowledge": "Acknowledge", "resolve": "Resolve", "comment": "Comment", "add_comment": "Add comment",
    "expires_in": "Fire again after (e.g. 2h; empty: never)", "history": "History", "comments": "Comments",
    "at": "At", "change": "Change", "by": "By", "detail": "Detail", "patrol": "Patrol",
    "event": "Event", "acknowledged": "Acknowledged", "firing": "Firing", "resolved": "Resolved",
    "flapping": "flapping",
    "in_maintenance": "in maintenance", "suppressed": "suppressed (parent down)",
    "latest_results": "Latest result of every check", "status": "Status", "started": "Started",
    "metrics": "Figures", "history_charts": "History (last {hours} hours)", "no_history": "No figures in this period.",
    "target_events": "Events of this target", "no_results": "No results stored for this target.",
    "address": "Address", "groups": "Groups", "worst": "Worst status", "checks": "Checks",
    "runs": "Patrol runs", "run": "Run", "playbook": "Playbook", "source": "Source", "finished": "Finished",
    "outcome": "Outcome", "reports": "Reports", "no_runs": "No patrol has run yet.", "not_finished": "running",
    "run_now": "Run now", "playbooks": "Playbooks", "schedule": "Schedule", "on_demand": "on demand only",
    "run_requested": "Run of {playbook} requested: it starts within a few seconds.",
    "requests": "Requested runs", "requested_by": "Requested by", "waiting": "waiting",
    "other_reports": "Other reports (daily, period)",
    "windows": "Maintenance windows", "no_windows": "No maintenance window.", "name": "Name",
    "hosts": "Hosts", "kind": "Kind", "when": "When", "active": "In force", "yes": "yes", "no": "no",
    "created_by": "Created by", "remove": "Remove", "add_window": "Add a window",
    "starts_at": "Starts at (ISO 8601 with zone; empty: now)", "ends_at": "Ends at (ISO 8601 with zone)",
    "duration": "Duration (e.g. 2h)", "cron": "Cron (cron windows)", "weekdays": "Weekdays (mon,tue, ...)",
    "start_time": "Start time (HH:MM, weekly)", "timezone": "Time zone", "check_optional": "Check (empty: every check)",
    "window_added": "Maintenance window added.", "window_removed": "Maintenance window removed.",
    "add_user": "Add a user", "unlock": "Unlock",
    "last_login": "Last login", "locked_until": "Locked until", "save": "Save",
    "create_token": "Create a token", "token_created": "Token {id} for {kind} {name} — shown only now, copy it:",
    "revoke": "Revoke", "revoked": "Token revoked.", "created": "Created", "valid": "Valid",
    "change_password": "Change password", "current_password": "Current password", "new_password": "New password",
    "repeat_password": "New password again", "password_changed": "Password changed: other sessions ended.",
    "passwords_differ": "The two new passwords differ.", "wrong_password": "The current password is wrong.",
    "language_saved": "Language saved.", "english": "English", "chinese": "中文",
    "bad_input": "Not done: {problem}", "done": "Done.",
    "viewer": "viewer", "operator": "operator", "admin": "admin",
    "settings": "Settings",
    "settings_note": "The collector's settings in force (read-only: they come from its settings file, "
                     "patrol serve --config). Secrets appear only as references.",
    "inventory": "Inventory",
}

_ZH = {
    "title": "Patrol 控制台",
    "overview": "总览", "events": "事件", "targets": "对象", "patrols": "巡检与报告",
    "maintenance": "维护窗口", "users": "用户", "tokens": "API 令牌", "account": "账户",
    "sign_in": "登录", "sign_out": "退出", "user_name": "用户名", "password": "密码",
    "signed_in_as": "当前用户", "role": "角色", "language": "语言",
    "login_failed": "用户名或密码错误。",
    "login_locked": "登录失败次数过多：请 {minutes} 分钟后再试，或请管理员解锁。",
    "login_throttled": "该地址登录失败次数过多：请等待 {minutes} 分钟。",
    "login_expired": "登录表单已过期，请重新登录。",
    "no_users": "尚无可登录的用户。请在采集器主机上执行：patrol user add NAME --role admin",
    "forbidden": "您的角色（{role}）无此权限，需要 {needed}。",
    "csrf_failed": "表单不是由本控制台发出的（表单令牌缺失或错误）：未做任何更改。",
    "not_found": "未找到",
    "targets_by_category": "按类别和健康状况的对象", "category": "类别", "health": "健康状况",
    "open_events": "未关闭事件", "by_severity": "按级别的未关闭事件", "silent_agents": "失联代理",
    "no_silent_agents": "所有代理均按时上报。", "last_patrols": "最近巡检",
    "agent": "代理", "last_seen": "最后上报", "never": "从未", "interval": "预期间隔",
    "severity": "级别", "state": "状态", "target": "对象", "check": "检查项", "item": "子项",
    "summary": "摘要", "opened": "发生时间", "count": "结果数", "acknowledged_by": "确认人",
    "filter": "筛选", "sort": "排序", "newest": "最新在前", "most_severe": "最严重在前",
    "by_target": "对象", "all": "全部", "no_events": "没有符合条件的事件。",
    "acknowledge": "确认", "resolve": "解决", "comment": "备注", "add_comment": "添加备注",
    "expires_in": "多久后再次告警（如 2h；留空：不再）", "history": "历史", "comments": "备注",
    "at": "时间", "change": "变化", "by": "操作人", "detail": "详情", "patrol": "巡检",
    "event": "事件", "acknowledged": "已确认", "firing": "告警中", "resolved": "已解决", "flapping": "抖动",
    "in_maintenance": "维护中", "suppressed": "已抑制（上级故障）",
    "latest_results": "各检查项的最新结果", "status": "状态", "started": "开始时间",
    "metrics": "指标", "history_charts": "历史（最近 {hours} 小时）", "no_history": "此期间无指标数据。",
    "target_events": "该对象的事件", "no_results": "该对象尚无结果。",
    "address": "地址", "groups": "分组", "worst": "最差状态", "checks": "检查项",
    "runs": "巡检记录", "run": "巡检", "playbook": "剧本", "source": "来源", "finished": "结束时间",
    "outcome": "结论", "reports": "报告", "no_runs": "尚未执行过巡检。", "not_finished": "进行中",
    "run_now": "立即执行", "playbooks": "剧本", "schedule": "计划", "on_demand": "仅手动执行",
    "run_requested": "已请求执行 {playbook}：几秒内开始。",
    "requests": "请求的巡检", "requested_by": "请求人", "waiting": "等待中",
    "other_reports": "其他报告（日报、周期报告）",
    "windows": "维护窗口", "no_windows": "没有维护窗口。", "name": "名称",
    "hosts": "主机", "kind": "类型", "when": "时间", "active": "生效中", "yes": "是", "no": "否",
    "created_by": "创建人", "remove": "删除", "add_window": "添加维护窗口",
    "starts_at": "开始时间（ISO 8601，含时区；留空：现在）", "ends_at": "结束时间（ISO 8601，含时区）",
    "duration": "时长（如 2h）", "cron": "Cron（周期窗口）", "weekdays": "星期（mon,tue, ...）",
    "start_time": "开始时刻（HH:MM，每周）", "timezone": "时区", "check_optional": "检查项（留空：全部）",
    "window_added": "已添加维护窗口。", "window_removed": "已删除维护窗口。",
    "add_user": "添加用户", "unlock": "解锁",
    "last_login": "最后登录", "locked_until": "锁定至", "save": "保存",
    "create_token": "创建令牌", "token_created": "令牌 {id}（{kind} {name}）——仅显示这一次，请复制：",
    "revoke": "吊销", "revoked": "令牌已吊销。", "created": "创建时间", "valid": "有效",
    "change_password": "修改密码", "current_password": "当前密码", "new_password": "新密码",
    "repeat_password": "再次输入新密码", "password_changed": "密码已修改：其他会话已结束。",
    "passwords_differ": "两次输入的新密码不一致。", "wrong_password": "当前密码错误。",
    "language_saved": "语言已保存。", "english": "English", "chinese": "中文",
    "bad_input": "未执行：{problem}", "done": "完成。",
    "viewer": "只读", "operator": "值班员", "admin": "管理员",
    "settings": "设置",
    "settings_note": "采集器当前生效的设置（只读：来自设置文件 patrol serve --config）。密钥只以引用形式显示。",
    "inventory": "资产清单",
}

WORDS = {"en": _EN, "zh": _ZH}
assert _EN.keys() == _ZH.keys(), set(_EN) ^ set(_ZH)


def words(language: str) -> dict[str, str]:
    return WORDS.get(language, _EN)


def browser_language(accept_language: str) -> str:
    """zh when the browser prefers Chinese to English (the sign-in page, before we know the user)."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"
