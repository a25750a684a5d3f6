"""--retry-failed retries for real, and a fault-injection soak: a loopback server that
fails about 30% of articles in every way it can, at concurrency 16, with canary secrets
in the key and the base URL that must show up nowhere we write."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path

import pytest
from answers import ARTICLE, INVALID, VALID, answer, article_of
from loopback import RecordedRequest, Reply, completion
from typer.testing import CliRunner

from llm_extract.cli import app

runner = CliRunner()


def numbered(request: RecordedRequest) -> int:
    return int(article_of(request).rsplit("Статья номер ", 1)[1].split(".")[0])


def good(request: RecordedRequest) -> Reply:
    text = article_of(request)
    return completion(tool=answer(evidence=[{"text": text.split(".")[0]}]) | {"positions": []})


def corpus(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"a{n:03}.txt").write_text(ARTICLE + f" Статья номер {n}.", "utf-8")
    return folder


def results(out: Path) -> dict[str, dict]:
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(lines) == len({r["article_id"] for r in lines}), "an article appears twice"
    return {r["article_id"]: r for r in lines}


# --- the repro: a failed article's answers are not replayed --------------------------


@pytest.mark.parametrize("store", ["db", "folder"])
@pytest.mark.parametrize(
    ("bad", "failure"),
    [(completion(tool=INVALID), "schema"), (completion(tool=VALID, finish_reason="length"),
                                             "truncated")],
    ids=["schema", "truncated"],
)  # fmt: skip
def test_retry_failed_asks_the_server_again(server, tmp_path, store, bad, failure):
    healthy = threading.Event()
    server.responder = lambda request: good(request) if healthy.is_set() else bad
    out = tmp_path / "r.jsonl"
    command = ["extract", str(corpus(tmp_path / "in", 1)), "-m", "fixture-loopback",
               "--base-url", server.url, "-o", str(out)]  # fmt: skip
    if store == "folder":
        command += ["--cache-dir", str(tmp_path / "cache")]
    first = runner.invoke(app, command)
    assert first.exit_code == 1
    (record,) = results(out).values()
    assert (record["status"], record["failure"]) == ("failed", failure)
    asked = len(server.chat_requests())
    assert asked == (3 if failure == "schema" else 1)
    healthy.set()
    again = runner.invoke(app, [*command, "--retry-failed"])
    assert again.exit_code == 0, again.output
    assert len(server.chat_requests()) == asked + 1  # the server was asked
    (record,) = results(out).values()
    assert record["status"] == "ok" and record["attempts"] == 1
    assert record["usage"]["input_tokens"] == 100  # spent, not replayed


def test_answers_that_led_to_ok_still_replay(server, tmp_path):
    server.script(completion(tool=INVALID))
    server.responder = good
    folder = corpus(tmp_path / "in", 1)
    common = ["extract", str(folder), "-m", "fixture-loopback", "--base-url", server.url]
    first = runner.invoke(app, [*common, "-o", str(tmp_path / "one.jsonl")])
    assert first.exit_code == 0, first.output
    assert len(server.chat_requests()) == 2  # an invalid answer, then the re-ask
    second = runner.invoke(app, [*common, "-o", str(tmp_path / "two.jsonl")])
    assert second.exit_code == 0, second.output
    assert len(server.chat_requests()) == 2  # both replayed
    (record,) = results(tmp_path / "two.jsonl").values()
    assert record["reasks"] == 1 and record["usage"]["input_tokens"] == 0
    assert record["usage"]["replayed_input_tokens"] == 200


# --- the soak ----------------------------------------------------------------------------

ARTICLES = 120
HEALTHY_FIRST = 16
"""The first wave answers well: a run stops early only on an endpoint that never does."""
KINDS = ["429", "500", "502", "503", "slow", "drop", "malformed", "schema", "length", "empty"]
ONCE = {"429", "502"}
"""Faults that pass: the second attempt is answered."""
EXPECTED_ERROR = {
    "500": "HTTP 500",
    "503": "HTTP 503",
    "slow": "no answer from",
    "drop": "dropped the connection",
    "malformed": "not a chat completion",
    "empty": "no choices",
}
KEY = "sk-canary-KEY-4f1c9a"
CANARIES = (KEY, "user-CANARY-5d2", "pass-CANARY-8e7", "query-CANARY-3b9")


def fault_of(n: int) -> str | None:
    if n < HEALTHY_FIRST or n % 3:
        return None
    return KINDS[(n // 3) % len(KINDS)]


class FaultyServer:
    """Answers by article: its fault (if any) for the first run, then healthy."""

    def __init__(self) -> None:
        self.healthy = False
        self.seen: Counter[int] = Counter()
        self.lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        n = numbered(request)
        with self.lock:
            self.seen[n] += 1
            nth = self.seen[n]
        kind = None if self.healthy else fault_of(n)
        if kind is None or (kind in ONCE and nth > 1):
            return good(request)
        echo = f"overloaded; you sent {request.headers.get('authorization')} to {request.path}"
        return {
            "429": Reply(429, {"error": {"message": echo}}, headers={"Retry-After": "0"}),
            "500": Reply(500, {"error": {"message": echo}}),
            "502": Reply(502, "<html>502 Bad Gateway</html>"),
            "503": Reply(503, {"error": {"message": echo}}),
            "slow": completion(tool=VALID, delay=2.5),
            "drop": Reply(drop=True),
            "malformed": Reply(200, '{"id": "x", "choices": [{"message": '),
            "schema": completion(tool=INVALID),
            "length": completion(tool=VALID, finish_reason="length"),
            "empty": Reply(200, {"id": "x", "object": "chat.completion", "choices": []}),
        }[kind]


def test_fault_soak_every_article_ok_or_its_fault_then_retried_to_ok(server, tmp_path, monkeypatch):
    faulty = FaultyServer()
    server.responder = faulty
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("LLM_EXTRACT_RETRIES", "1")
    monkeypatch.setenv(
        "LLM_EXTRACT_TIMEOUT", "1.0"
    )  # well above a healthy answer on a loaded machine
    url = server.url.replace("//", "//user-CANARY-5d2:pass-CANARY-8e7@")
    url += "?api_key=query-CANARY-3b9"
    out = tmp_path / "r.jsonl"
    cache = tmp_path / "cache"
    command = ["extract", str(corpus(tmp_path / "in", ARTICLES)), "-m", "fixture-loopback",
               "--base-url", url, "-o", str(out), "--cache-dir", str(cache),
               "--concurrency", "16"]  # fmt: skip
    first = runner.invoke(app, command)
    assert first.exit_code == 1, first.output
    assert "Traceback" not in first.output
    found = results(out)
    assert len(found) == ARTICLES
    requests = server.chat_requests()
    assert all(r.path.endswith("/chat/completions?api_key=query-CANARY-3b9") for r in requests)
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in requests)
    sent = Counter(numbered(r) for r in requests)
    reasked = Counter(numbered(r) for r in requests if len(r.json["messages"]) > 2)
    failed = set()
    for n in range(ARTICLES):
        record, kind = found[f"a{n:03}"], fault_of(n)
        assert record["attempts"] == sent[n], (n, kind)  # counted as the server saw them
        assert record["reasks"] == reasked[n], (n, kind)
        if kind is None or kind in ONCE:
            assert record["status"] == "ok", (n, kind, record["error"])
            assert record["attempts"] == (2 if kind else 1)
            continue
        failed.add(n)
        assert record["status"] == "failed", (n, kind)
        if kind == "schema":
            assert (record["failure"], record["attempts"], record["reasks"]) == ("schema", 3, 2)
        elif kind == "length":
            assert (record["failure"], record["attempts"]) == ("truncated", 1)
        else:
            assert record["failure"] == "transport" and record["attempts"] == 2, (n, kind)
            assert EXPECTED_ERROR[kind] in record["error"], (n, kind, record["error"])
    assert 0.2 < len([n for n in range(ARTICLES) if fault_of(n)]) / ARTICLES < 0.4
    assert len(failed) == sum(fault_of(n) not in (None, *ONCE) for n in range(ARTICLES))

    faulty.healthy = True
    before = len(requests)
    second = runner.invoke(app, [*command, "--retry-failed"])
    assert second.exit_code == 0, second.output
    assert {numbered(r) for r in server.chat_requests()[before:]} == failed  # only those
    assert all(r["status"] == "ok" for r in results(out).values())
    assert len(results(out)) == ARTICLES

    home = Path(os.environ["LLM_EXTRACT_HOME"])
    written = [p for p in [*home.rglob("*"), *cache.rglob("*"), out] if p.is_file()]
    assert any(p.name == "logs.db" for p in written) and any(p.suffix == ".json" for p in written)
    for path in written:
        data = path.read_bytes()
        for canary in CANARIES:
            assert canary.encode() not in data, (canary, path)
    for canary in CANARIES:
        assert canary not in first.stderr and canary not in second.stderr
        assert canary not in first.stdout and canary not in second.stdout
