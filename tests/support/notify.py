"""Local servers speaking the protocols of the notification channels: a webhook receiver that checks
the signature with the README's own verification snippet, and a fake Telegram Bot API. Both record
what they got and answer from a script of statuses (then 200)."""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.waiting import wait_for

README = Path(__file__).resolve().parents[2] / "README.md"
# A real server's start on a busy 2-core CI box can pass the usual 30 s; a slow start is not what these
# tests are about.
STARTUP_SECONDS = 120.0


def eventually(condition: Callable[[], Any], timeout: float = 90.0) -> Any:
    """`wait_for` with a deadline for a loaded machine: deliveries wait on jobs, retries and a sender."""
    return wait_for(condition, timeout)


def readme_verify() -> Callable[..., bool]:
    """The `verify` function of the README's webhook section, executed as documented."""
    text = README.read_text()
    section = text[text.index("## Notifications") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "the README has no verification snippet"
    assert len([line for line in code.group(1).splitlines() if line.strip()]) <= 5, (
        "the snippet is meant to be five lines"
    )
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)
    return scope["verify"]


@dataclass
class Receiver:
    """What a local server got: every request, and the answers it still has to give."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    def accepted(self, event: str | None = None) -> list[dict[str, Any]]:
        """The requests answered 200 (of one event)."""
        return [r for r in self.requests if r["status"] == 200 and (event is None or r["event"] == event)]


def _serve(
    receiver: Receiver, handle: Callable[[BaseHTTPRequestHandler, bytes], dict[str, Any]], port: int = 0
) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            record = handle(self, body)
            status = record.get("status") or receiver.answer()
            record["status"] = status
            with receiver.lock:
                receiver.requests.append(record)
            payload = json.dumps(record.get("reply") or {"ok": status == 200}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def webhook_receiver(secret: str = "", script: list[int] | None = None, port: int = 0) -> Iterator[Receiver]:
    """A webhook endpoint; with `secret`, a request whose signature fails the README check gets 401."""
    verify = readme_verify()
    receiver = Receiver(script=list(script or []))

    def handle(request: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
        data = json.loads(body)
        record = {
            "event": request.headers.get("X-Vcore-Event"),
            "delivery": request.headers.get("X-Vcore-Delivery"),
            "body": data,
            "headers": dict(request.headers),
        }
        if secret and not verify(
            secret.encode(),
            body,
            request.headers.get("X-Vcore-Timestamp", "0"),
            request.headers.get("X-Vcore-Signature", ""),
        ):
            record["status"] = 401
        return record

    yield from _serve(receiver, handle, port)


@contextmanager
def fake_telegram(token: str, script: list[int] | None = None) -> Iterator[Receiver]:
    """The Bot API's sendMessage for one bot: a wrong token gets 401 like the real one."""
    receiver = Receiver(script=list(script or []))

    def handle(request: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
        data = json.loads(body)
        record: dict[str, Any] = {"event": None, "body": data, "path": request.path}
        if request.path != f"/bot{token}/sendMessage":
            record.update(status=401, reply={"ok": False, "error_code": 401, "description": "Unauthorized"})
        elif data.get("parse_mode") == "HTML" and not _balanced_html(data.get("text", "")):
            record.update(
                status=400, reply={"ok": False, "error_code": 400, "description": "Bad Request: can't parse entities"}
            )
        return record

    yield from _serve(receiver, handle)


_TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "s", "a", "code", "pre", "blockquote"}


def _balanced_html(text: str) -> bool:
    """Telegram's parse_mode=HTML check, roughly: only its tags, each closed; `<` and `&` escaped."""
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-zA-Z0-9]*)[^>]*>|&(#?\w+;)?|<", text):
        whole = match.group(0)
        if whole.startswith("&"):
            if not match.group(3):
                return False
            continue
        if whole == "<" or (match.group(2) or "").lower() not in _TELEGRAM_TAGS:
            return False
        if match.group(1):
            if not stack or stack.pop() != match.group(2).lower():
                return False
        else:
            stack.append(match.group(2).lower())
    return not stack


@dataclass
class TlsMailbox:
    """What a real SMTP server with TLS and login on loopback received."""

    host: str
    port: int
    messages: list[Any] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def tls_smtp_server(cert: Path, key: Path, *, implicit: bool, user: str, password: str) -> Iterator[TlsMailbox]:
    """aiosmtpd with STARTTLS required (or implicit TLS, port-465 style) and a login checked against
    `user`/`password`."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.conftest import free_port

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = TlsMailbox(host="127.0.0.1", port=free_port())

    class Collect(MessageHandler):
        def handle_message(self, message: Any) -> None:
            box.messages.append(message)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (user, password)
        if ok:
            box.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=ok)

    options: dict[str, Any] = {"authenticator": authenticate, "auth_required": True}
    if implicit:
        # aiosmtpd only counts STARTTLS as TLS for AUTH (and warns); this connection is TLS from the first byte.
        controller = Controller(
            Collect(),
            hostname=box.host,
            port=box.port,
            ssl_context=context,
            server_hostname="127.0.0.1",
            auth_require_tls=False,
            **options,
        )
    else:
        controller = Controller(
            Collect(), hostname=box.host, port=box.port, tls_context=context, require_starttls=True, **options
        )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
