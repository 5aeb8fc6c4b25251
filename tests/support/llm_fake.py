"""A local stand-in for the LLM providers: OpenAI chat completions (with SSE streaming) and Anthropic
messages (with its streaming events), on a free loopback port. Each provider's base URL setting points
at it (the only fake in these tests: the providers are internet services).

Any path ending in /chat/completions speaks OpenAI (so OpenAI, Google, Groq and `local` all work
against `fake.url + "/v1"`), /v1/messages speaks Anthropic (`ANTHROPIC_BASE_URL=fake.url`).
`fake.plan(...)` queues what the next requests get instead of an answer: a status (429 with
Retry-After, 401, ...) or a delay longer than the client's timeout. `fake.gates[i]` holds a stream
before its i-th text chunk until the test sets it, so a test can watch the chunks arrive one by one.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GOOD_KEY = "sk-fake-good-key-0123456789"


@dataclass
class Refuse:
    status: int
    message: str = "refused"
    retry_after: str | None = None


@dataclass
class Delay:
    seconds: float


@dataclass
class FakeLLM:
    url: str = ""
    chunks: list[str] = field(default_factory=lambda: ["Hello", " from", " the fake."])
    requests: list[dict[str, Any]] = field(default_factory=list)
    gates: dict[int, threading.Event] = field(default_factory=dict)
    _plan: deque[Refuse | Delay] = field(default_factory=deque)

    def plan(self, *steps: Refuse | Delay) -> None:
        self._plan.extend(steps)

    def next_step(self) -> Refuse | Delay | None:
        return self._plan.popleft() if self._plan else None

    def prompts(self) -> list[str]:
        return [json.dumps(request["body"]) for request in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        fake = self.server.fake
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body, "at": time.time()})
        anthropic = self.path.endswith("/v1/messages")
        if not self.path.endswith(("/chat/completions", "/v1/messages")):
            return self._json(404, {"error": {"message": f"no route {self.path}"}})
        key = self.headers.get("x-api-key") if anthropic else (self.headers.get("authorization") or "")[7:]
        if key != GOOD_KEY:
            message = "invalid x-api-key" if anthropic else f"Incorrect API key provided: {key}."
            return self._json(401, {"type": "error", "error": {"type": "authentication_error", "message": message}})
        step = fake.next_step()
        if isinstance(step, Delay):
            time.sleep(step.seconds)
        elif isinstance(step, Refuse):
            headers = {"retry-after": step.retry_after} if step.retry_after is not None else {}
            return self._json(step.status, {"error": {"type": "error", "message": step.message}}, headers)
        model = body.get("model", "")
        text_in = json.dumps(body.get("messages")) + json.dumps(body.get("system", ""))
        usage_in, usage_out = len(text_in.split()), len(fake.chunks)
        if body.get("stream"):
            events = (
                _anthropic_events(model, fake.chunks, usage_in)
                if anthropic
                else _openai_events(model, fake.chunks, usage_in)
            )
            return self._stream(events, fake.gates)
        text = "".join(fake.chunks)
        if anthropic:
            return self._json(
                200,
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": usage_in, "output_tokens": usage_out},
                },
            )
        return self._json(
            200,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": usage_in,
                    "completion_tokens": usage_out,
                    "total_tokens": usage_in + usage_out,
                },
            },
        )

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, events: list[Event], gates: dict[int, threading.Event]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        sent_text = 0
        for name, data, is_text in events:
            frame = (
                f"event: {name}\n" if name else ""
            ) + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
            if is_text:
                if sent_text in gates:
                    gates[sent_text].wait(60)
                sent_text += 1
            self.wfile.write(frame.encode())
            self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


Event = tuple[str | None, Any, bool]  # (SSE event name, data, carries answer text)


def _openai_events(model: str, chunks: list[str], usage_in: int) -> list[Event]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> Event:
        return (
            None,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            },
            bool(delta.get("content")),
        )

    return [
        chunk({"role": "assistant", "content": ""}),
        *(chunk({"content": text}) for text in chunks),
        chunk({}, "stop"),
        (
            None,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "model": model,
                "choices": [],
                "usage": {"prompt_tokens": usage_in, "completion_tokens": len(chunks)},
            },
            False,
        ),
        (None, "[DONE]", False),
    ]


def _anthropic_events(model: str, chunks: list[str], usage_in: int) -> list[Event]:
    return [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "usage": {"input_tokens": usage_in, "output_tokens": 1},
                },
            },
            False,
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            False,
        ),
        ("ping", {"type": "ping"}, False),
        *(
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
                True,
            )
            for text in chunks
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}, False),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": len(chunks)}},
            False,
        ),
        ("message_stop", {"type": "message_stop"}, False),
    ]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeLLM


@contextmanager
def fake_llm() -> Iterator[FakeLLM]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeLLM(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, name="fake-llm", daemon=True)
    thread.start()
    try:
        yield server.fake
    finally:
        for gate in server.fake.gates.values():
            gate.set()
        server.shutdown()
        server.server_close()


def llm_env(fake: FakeLLM, provider: str = "openai", key: str = GOOD_KEY) -> dict[str, str]:
    """Settings (as environment variables) that point every provider at the fake."""
    return {
        "LLM_DEFAULT_PROVIDER": provider,
        "OPENAI_API_KEY": key,
        "ANTHROPIC_API_KEY": key,
        "GROQ_API_KEY": key,
        "GOOGLE_API_KEY": key,
        "OPENAI_BASE_URL": f"{fake.url}/v1",
        "GROQ_BASE_URL": f"{fake.url}/openai/v1",
        "GOOGLE_BASE_URL": f"{fake.url}/v1beta/openai",
        "LLM_LOCAL_BASE_URL": f"{fake.url}/v1",
        "ANTHROPIC_BASE_URL": fake.url,
    }
