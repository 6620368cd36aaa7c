"""Real local servers for the notification tests: an HTTP server recording webhook POSTs and a small
SMTP server recording messages, each on 127.0.0.1 in a thread of the test process."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["HookServer", "SmtpServer", "hook_server", "smtp_server"]


@dataclass
class HookServer:
    port: int
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@contextmanager
def hook_server() -> Iterator[HookServer]:
    """``/hook`` answers 204 and records the JSON body; ``/fail`` answers 500; ``/away`` redirects to
    another host; ``/moved`` redirects (307) to ``/hook`` on the same host."""
    state = HookServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path == "/away":
                self.send_response(302)
                self.send_header("Location", "http://elsewhere.example.test/hook")
                self.end_headers()
                return
            if self.path == "/moved":
                self.send_response(307)
                self.send_header("Location", "/hook")
                self.end_headers()
                return
            if self.path == "/fail":
                self.send_response(500)
                self.end_headers()
                return
            state.received.append(json.loads(body))
            state.headers.append(dict(self.headers))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpServer:
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """A minimal SMTP server (EHLO, MAIL, RCPT, DATA, QUIT) recording each message."""
    state = SmtpServer(port=0)

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            self.reply("220 test.local ESMTP ready")
            sender, recipients = "", []
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                command = raw.decode().rstrip("\r\n")
                verb = command[:4].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 test.local")
                elif verb == "MAIL":
                    sender, recipients = command.split(":", 1)[1].strip(), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(command.split(":", 1)[1].strip())
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while (line := self.rfile.readline()) not in (b".\r\n", b""):
                        lines.append(line.decode())
                    state.messages.append({"from": sender, "to": recipients, "data": "".join(lines)})
                    self.reply("250 OK queued")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
