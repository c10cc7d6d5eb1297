"""A scripted stand-in for the collector client."""

from __future__ import annotations

from agent.client import Answer, TransportError


class FakeClient:
    """Answers from scripts; records every request (what was sent, and the If-None-Match)."""

    def __init__(self) -> None:
        self.plan_answers: list[Answer | Exception] = []
        self.push_answers: list[Answer | Exception] = []
        self.plan_requests: list[str | None] = []  # the etag sent
        self.pushes: list[tuple[bytes, bool]] = []  # (body, compressed)

    def fetch_plan(self, etag, timeout=30.0):
        self.plan_requests.append(etag)
        answer = self.plan_answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def push(self, body, compress=True, timeout=30.0):
        self.pushes.append((body, compress))
        answer = self.push_answers.pop(0) if self.push_answers else Answer(200, {"duplicate": False})
        if isinstance(answer, Exception):
            raise answer
        return answer


def unreachable() -> TransportError:
    return TransportError("cannot reach http://127.0.0.1:9: Connection refused")
