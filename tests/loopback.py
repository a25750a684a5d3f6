"""A loopback OpenAI-compatible HTTP server for offline tests and benchmarks.

The real `openai` client (httpx2 underneath, which respx and vcrpy do not hook)
talks to it over 127.0.0.1, so tests exercise the same code path a real
endpoint does: status codes, headers such as Retry-After, slow answers,
dropped connections and malformed bodies.

    from loopback import LoopbackServer, Reply, completion

    with LoopbackServer() as server:
        server.script(Reply(429, headers={"Retry-After": "1"}), completion(tool={"meetings": []}))
        client = openai.OpenAI(base_url=server.url, api_key="sk-test-...")
        ...
        assert server.requests[-1].json["model"] == "fixture-careful"

Replies are served in order from the script; when it is empty the `responder`
(a function of the request, e.g. one keyed by article text for concurrent
runs) answers, and without one the server answers 500 "no scripted reply".
Every request is recorded. Run `python tests/loopback.py --help` to serve one
fixed reply with a set latency from a separate process (for benchmarks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LoopbackServer", "RecordedRequest", "Reply", "completion"]


@dataclass
class Reply:
    """One scripted answer.

    `body` is JSON-encoded unless it is `str`/`bytes` (sent as is, so malformed
    bodies are easy); `delay` waits before answering (timeouts); `drop` closes
    the connection without a byte of answer (a reset or dropped connection);
    `trickle` sends the answer one byte every `trickle` seconds (a server that
    never trips a per-read timeout).
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    trickle: float = 0.0

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def completion(
    *,
    tool: Any = None,
    content: str | None = None,
    tool_name: str = "ArticleExtraction",
    finish_reason: str = "stop",
    usage: tuple[int, int] | None = (100, 20),
    model: str = "fixture-loopback",
    delay: float = 0.0,
) -> Reply:
    """A chat completion: `tool` (dict, or str sent verbatim as arguments) or `content`."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool is not None:
        arguments = tool if isinstance(tool, str) else json.dumps(tool, ensure_ascii=False)
        message["tool_calls"] = [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": tool_name, "arguments": arguments},
            }
        ]
    body: dict[str, Any] = {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }
    if usage is not None:
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }
    return Reply(200, body, delay=delay)


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            408: "Request Timeout", 422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}  # fmt: skip


class LoopbackServer:
    """An asyncio HTTP/1.1 server with keep-alive, run in a background thread."""

    def __init__(
        self,
        responder: Callable[[RecordedRequest], Reply] | None = None,
        *,
        port: int = 0,
    ) -> None:
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        """Base URL for the openai client, ending in /v1."""
        return f"http://127.0.0.1:{self._port}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """Scripted replies not served yet."""
        with self._lock:
            return len(self._script)

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.split("?")[0].endswith("/chat/completions")]

    def start(self) -> LoopbackServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", self._port, backlog=1024)
            )
            self._port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="loopback-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
        if self.responder is not None:
            return self.responder(request)
        return Reply(500, {"error": {"message": "loopback: no scripted reply left"}})

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                reply = self._next_reply(request)
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                if reply.drop:
                    sock = writer.get_extra_info("socket")
                    if sock is not None:  # RST rather than FIN: a reset connection
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    writer.close()
                    return
                body = reply.encoded()
                headers = {"Content-Type": "application/json", **reply.headers}
                headers["Content-Length"] = str(len(body))
                head = f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
                data = head.encode("latin-1") + body
                if reply.trickle:
                    for at in range(len(data)):
                        writer.write(data[at : at + 1])
                        await writer.drain()
                        await asyncio.sleep(reply.trickle)
                else:
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()


async def _read_request(reader: asyncio.StreamReader) -> RecordedRequest | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return RecordedRequest(method, path, headers, body, time.monotonic())


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve one fixed chat completion on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed).")
    parser.add_argument("--latency", type=float, default=0.0, help="Seconds before each answer.")
    parser.add_argument("--reply", help="JSON file: the tool arguments to answer with.")
    args = parser.parse_args()
    arguments = json.loads(Path(args.reply).read_text("utf-8")) if args.reply else {}
    reply = completion(tool=arguments, delay=args.latency)
    server = LoopbackServer(lambda _request: reply, port=args.port).start()
    print(server.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


if __name__ == "__main__":
    _main()
