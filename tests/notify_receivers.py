"""Local receivers for notification tests: a JSON webhook (http.server) and an SMTP server
(aiosmtpd), each on a free loopback port, and a config writer for watches."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class JsonReceiver:
    """Records every JSON body POSTed to it. ``status`` is what it answers; from the
    ``hold_from``-th body on (when set), it records the body and then holds the answer back
    until ``released`` is set or the server stops."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.requests = 0
        self.status = 200
        self.hold_from: int | None = None
        self.released = threading.Event()
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.arrived:
                    receiver.requests += 1
                    if receiver.status < 300:
                        receiver.bodies.append(json.loads(body))
                    receiver.arrived.notify_all()
                    hold_from = receiver.hold_from
                    hold = hold_from is not None and len(receiver.bodies) >= hold_from
                if hold:
                    receiver.released.wait(30)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        """Wait until ``count`` bodies have been recorded."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.bodies) >= count, timeout):
                raise AssertionError(f"{len(self.bodies)} of {count} webhook bodies arrived")

    def event_ids(self) -> list[int]:
        return [event["id"] for body in self.bodies for event in body["events"]]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """An aiosmtpd server keeping each message as (subject, text body)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[str, str]] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.content)
                subject = str(make_header(decode_header(message["Subject"])))
                part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
                text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                receiver.messages.append((subject, text))
                return "250 OK"

        # aiosmtpd's readiness check connects to the port it was given, so it needs a real
        # one: a port the system just handed out and released.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def write_watch_config(folder: Path, database_url: str, watches: str,
                       sources: tuple[str, ...] = ("a", "b")) -> Path:
    """A govarchive.toml with ``sources`` (titled 来源<name>) and the ``[[watches]]`` text."""
    lines = [f"[storage]\nurl = {json.dumps(database_url)}",
             '[web]\nbase_url = "https://archive.example.org/"']
    for name in sources:
        lines.append(f'[[sources]]\nname = "{name}"\ntitle = "来源{name}"\n'
                     f'start_urls = ["https://example.org/{name}/"]')
    path = folder / "govarchive.toml"
    path.write_text("\n".join(lines) + "\n" + watches, encoding="utf-8")
    return path
