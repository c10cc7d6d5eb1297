"""Default messages in English and Chinese, HTML escaping, overrides, backoff and the webhook signature."""

from __future__ import annotations

import datetime as dt
import time

from notify_samples import make_notice

from collector.notify.channels.base import truncate_bytes
from collector.notify.channels.robots import dingtalk_sign, feishu_sign, with_query
from collector.notify.channels.webhook import sign, verify
from collector.notify.delivery import backoff
from collector.notify.settings import Retries, Templates
from collector.notify.templates import Renderer

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_one_notice_in_english():
    message = Renderer(Templates(), "en", SHANGHAI).message([make_notice()], "hook")
    assert message.subject == "[Firing] CRITICAL web-01 · disk · /var: 92% used (critical at 90%)"
    assert message.text == (
        "Firing · CRITICAL · web-01 · disk · /var\n"
        "  92% used (critical at 90%)\n"
        "  since 2024-05-01 09:47:58, lasted 12 min 5 s, 4 results\n"
    )


def test_a_group_in_chinese():
    notices = [make_notice(1), make_notice(2, target="db-01", check="load", item="", severity="WARNING",
                                           change="acknowledged", state="acknowledged", actor="alice",
                                           comment="处理中"),
               make_notice(3, change="resolved", state="resolved")]
    message = Renderer(Templates(), "zh", SHANGHAI).message(notices, "ding")
    assert message.subject == "[Patrol] 3 条事件：1 条告警，1 条已确认，1 条已恢复"
    assert "**已确认** · 警告 · db-01 · load" in message.markdown
    assert "操作人 alice · 处理中" in message.markdown
    assert "开始于 2024-05-01 09:47:58 · 持续 12 分 5 秒 · 4 次结果" in message.markdown
    assert "操作人 alice：处理中" in message.text and "开始于 2024-05-01 09:47:58，持续 12 分 5 秒" in message.text


def test_html_is_escaped_and_text_is_not():
    notice = make_notice(summary="<script>alert(1)</script> & more", target="<b>web</b>")
    message = Renderer(Templates(), "en").message([notice], "mail")
    assert "<script>" not in message.html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in message.html
    assert "&lt;b&gt;web&lt;/b&gt;" in message.html
    assert "<script>alert(1)</script> & more" in message.text


def test_overrides_replace_only_their_kind():
    text = "{% for n in notices %}{{ n.target }}={{ n.state_label }} at {{ n.at|clock }}\n{% endfor %}"
    templates = Templates(subject="{{ worst }}: {{ count }} on {{ channel }}", text=text)
    message = Renderer(templates, "en", SHANGHAI).message([make_notice(), make_notice(2, severity="WARNING")], "c")
    assert message.subject == "CRITICAL: 2 on c"
    assert message.text == "web-01=firing at 10:00:03\nweb-01=firing at 10:00:03\n"
    assert "**Firing** · WARNING" in message.markdown  # the default markdown is kept


def test_payload_is_the_notices_as_json():
    message = Renderer(Templates(), "en").message([make_notice(5, labels={"team": "ops"})], "hook", "abc")
    payload = message.payload()
    assert (payload["delivery_id"], payload["channel"], payload["count"]) == ("abc", "hook", 1)
    [notice] = payload["notices"]
    assert notice["at"] == "2024-05-01T02:00:03Z" and notice["groups"] == ["linux", "web"]
    assert notice["labels"] == {"team": "ops"} and notice["fingerprint"] == "web-01/disk//var"


def test_backoff_doubles_up_to_its_cap():
    retries = Retries(attempts=10, backoff=2, max_backoff=20)
    assert [backoff(n, retries) for n in range(1, 7)] == [2, 4, 8, 16, 20, 20]


def test_webhook_signature_verifies_only_the_signed_body_while_fresh():
    body = b'{"count":1}'
    header = sign("k3y", 1714528803, body)
    assert header.startswith("t=1714528803,v1=") and len(header.split("v1=")[1]) == 64
    assert verify("k3y", header, body, now=1714528803 + 60)
    assert not verify("k3y", header, body + b" ", now=1714528803)
    assert not verify("other", header, body, now=1714528803)
    assert not verify("k3y", header, body, now=1714528803 + 301)
    assert not verify("k3y", "garbage", body)
    assert verify("k3y", sign("k3y", int(time.time()), body), body)


def test_robot_signatures_are_base64_hmacs():
    # Values computed with the vendors' published sample code for these inputs.
    assert dingtalk_sign("SECabc", 1714528803000) == "cHAnpw+Cg9pzegyw4QKd4S1F9dJqM+qKy9fy4f1yEQY="
    assert feishu_sign("abc", 1714528803) == "QMzn4kAL398nwr/gjvofZjjUR3gfy6KwXXkyef4K2io="
    url = with_query("https://oapi.dingtalk.com/robot/send?access_token=t", timestamp="1", sign="a+b/c=")
    assert url == "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1&sign=a%2Bb%2Fc%3D"


def test_truncation_keeps_whole_characters():
    assert truncate_bytes("short", 100) == "short"
    cut = truncate_bytes("告警" * 100, 50)
    assert len(cut.encode()) <= 50 and cut.endswith("\n…") and cut.startswith("告警")
