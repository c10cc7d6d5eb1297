"""A loopback HTTP server that replays recorded answers, checks basic auth, and can hang or misbehave.

    with Replay(routes, user="mon", password="pw") as server:   # routes: {(method, path): handler}
        server.url

A handler takes (path, body bytes, headers) and returns (status, content type, body bytes).
``hanging_socket()`` is a listener that accepts and never answers (a wedged server).
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "middleware"
Handler = Callable[[str, bytes, dict], tuple[int, str, bytes]]


def file_answer(name: str, content_type: str = "application/json") -> Handler:
    body = (FIXTURES / name).read_bytes()
    return lambda path, data, headers: (200, content_type, body)


class Replay:
    def __init__(self, routes: dict[tuple[str, str], Handler], user: str | None = None,
                 password: str | None = None) -> None:  # fmt: skip
        self.routes = routes
        self.requests: list[tuple[str, str, bytes, dict]] = []
        expected = None
        if user is not None:
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        replay = self

        class Handle(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                replay.requests.append((method, self.path, data, headers))
                if expected is not None and headers.get("authorization") != expected:
                    self._send(401, "text/html", b"<html>Unauthorized</html>", {"WWW-Authenticate": 'Basic realm="x"'})
                    return
                handler = replay.routes.get((method, self.path.split("?")[0]))
                if handler is None:
                    self._send(404, "text/plain", b"not found")
                    return
                self._send(*handler(self.path, data, headers))

            def _send(self, status: int, content_type: str, body: bytes, extra: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Replay:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class HangingSocket:
    """Accepts connections (the kernel does, through the backlog) and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> HangingSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on (bound then closed: the kernel refuses connections to it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
