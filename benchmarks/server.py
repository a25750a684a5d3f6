"""A loopback OpenAI-compatible server for the benchmarks: set latency, optional faults.

    python benchmarks/server.py --latency 0.25 [--fault-rate 0.05]   # prints its base URL

It is `tests/loopback.py`'s server with a responder that answers each article
made from a seed with that seed's gold extraction (quotes only: grounding
finds the offsets), shaped as the request asks: a tool call (tools mode), JSON
content (json_schema and json modes), or LangExtract's `{"extractions": [...]}`
for LangExtract's requests. A fault is a 503 with `Retry-After-Ms: 50`.
`GET /v1/stats` counts the chat requests it saw and lists their arrival times
(`time.monotonic()`, the same clock as the client's); `POST /v1/stats/reset` clears it.

It binds 127.0.0.1 only, and stops by itself when its parent closes its stdin
(or dies), or after `--max-seconds`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import gold_answers
from loopback import LoopbackServer, RecordedRequest, Reply, completion


class BenchResponder:
    def __init__(self, latency: float, fault_rate: float, seed: int = 0) -> None:
        self.latency = latency
        self.fault_rate = fault_rate
        self.answers = gold_answers()
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.chat = 0
        self.faults = 0
        self.arrivals: list[float] = []
        """Every chat request's arrival (`time.monotonic()`, the client's clock too)."""

    def __call__(self, request: RecordedRequest) -> Reply:
        path = request.path.removeprefix("/v1")
        if path.startswith("/stats"):
            with self.lock:
                if path == "/stats/reset":
                    self.chat = self.faults = 0
                    self.arrivals = []
                stats = {"chat": self.chat, "faults": self.faults, "arrivals": list(self.arrivals)}
            return Reply(200, stats)
        if path != "/chat/completions":
            return Reply(404, {"error": {"message": f"bench server: no route {request.path}"}})
        with self.lock:
            self.chat += 1
            self.arrivals.append(request.received_at)
            fault = self.random.random() < self.fault_rate
            self.faults += fault
        if fault:
            return Reply(
                503,
                {"error": {"message": "bench server: injected fault"}},
                headers={"Retry-After-Ms": "50"},
            )
        return self.answer(request.json)

    def answer(self, body: dict[str, Any]) -> Reply:
        text = "\n".join(
            str(m.get("content") or "") for m in body["messages"] if m.get("role") == "user"
        )
        gold = next(
            (g for paragraphs, g in self.answers if any(p in text for p in paragraphs)), None
        )
        extraction = gold or {"meetings": [], "positions": []}
        model = body.get("model", "fixture-bench")
        response_format = body.get("response_format") or {}
        if body.get("tools"):
            name = body["tools"][0]["function"]["name"]
            return completion(tool=extraction, tool_name=name, model=model, delay=self.latency)
        if response_format.get("type") == "json_object":  # LangExtract's OpenAI provider
            return completion(content=json.dumps(_langextract(extraction), ensure_ascii=False),
                              model=model, delay=self.latency)  # fmt: skip
        return completion(
            content=json.dumps(extraction, ensure_ascii=False), model=model, delay=self.latency
        )


def _langextract(extraction: dict[str, Any]) -> dict[str, Any]:
    """The same records in LangExtract's shape: one extraction per evidence quote."""
    items = []
    for meeting in extraction.get("meetings", []):
        attributes = {"status": meeting.get("status"), "format": meeting.get("format")}
        items.append({"meeting": meeting["evidence"][0]["text"], "meeting_attributes": attributes})
    for position in extraction.get("positions", []):
        attributes = {"stance": position.get("stance"), "issue": position.get("issue")}
        items.append(
            {"position": position["evidence"][0]["text"], "position_attributes": attributes}
        )
    return {"extractions": items}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.25, help="Seconds before each answer.")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="Share of 503 answers.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port.")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="Stop after this long.")
    args = parser.parse_args()
    if not 0 <= args.latency <= 1:
        parser.error("--latency is at most 1 s per call")
    server = LoopbackServer(BenchResponder(args.latency, args.fault_rate), port=args.port).start()
    print(server.url, flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait(args.max_seconds)
    server.stop()


if __name__ == "__main__":
    main()
