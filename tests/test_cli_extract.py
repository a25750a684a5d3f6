"""`llm-extract extract` through typer's CliRunner, and a killed run restarted for real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from answers import ARTICLE, INVALID, answer, article_of
from loopback import Reply, completion
from typer.testing import CliRunner

from llm_extract.cli import app

runner = CliRunner()
SEED = "seeds/000_5fadb3ca50ee0a75.txt"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return runner.invoke(app, ["extract", *args], input=input, env=env)


def write_articles(folder: Path, texts: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, "utf-8")
    return folder


def first_sentence_answer(request):
    return completion(
        tool=answer(evidence=[{"text": article_of(request).split(".")[0]}]) | {"positions": []}
    )


def test_one_seed_to_jsonl(server):
    server.responder = first_sentence_answer
    result = run(SEED, "--model", "fixture-loopback", "--base-url", server.url, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert record["article_id"] == "000_5fadb3ca50ee0a75" and record["status"] == "ok"
    evidence = record["extraction"]["meetings"][0]["evidence"][0]
    assert evidence["start"] == 0 and evidence["match"] == "exact"


def test_stdin_is_one_article(server):
    server.responder = first_sentence_answer
    result = run("-", "--model", "fixture-loopback", "--base-url", server.url, input=ARTICLE)
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    assert record["source"] == "<stdin>" and record["article_id"].startswith("text-")


def test_out_file_and_table_summary(server, tmp_path):
    server.responder = first_sentence_answer
    folder = write_articles(tmp_path / "in", {"a": ARTICLE, "b": ARTICLE + " Ещё."})
    out = tmp_path / "out.jsonl"
    result = run(str(folder), "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "2 articles" in result.stdout and "ok" in result.stdout
    written = [json.loads(x)["article_id"] for x in out.read_text("utf-8").splitlines()]
    assert sorted(written) == ["a", "b"]  # written as each finishes


def test_failures_exit_1_after_recording_everything(server, tmp_path):
    def respond(request):
        if "ломается" in article_of(request):
            return Reply(400, {"error": {"message": "context length exceeded"}})
        return first_sentence_answer(request)

    server.responder = respond
    folder = write_articles(tmp_path / "in", {"a": ARTICLE, "b": ARTICLE + " Эта ломается."})
    out = tmp_path / "out.jsonl"
    result = run(str(folder), "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out))
    assert result.exit_code == 1
    assert "1 of 2 articles failed" in result.stderr
    records = {
        json.loads(x)["article_id"]: json.loads(x) for x in out.read_text("utf-8").splitlines()
    }
    assert records["a"]["status"] == "ok"
    assert "context length exceeded" in records["b"]["error"]


def test_out_that_is_a_folder_is_one_clear_error_before_any_call(server, tmp_path):
    server.responder = first_sentence_answer
    result = run(SEED, "-m", "fixture-loopback", "--base-url", server.url, "-o", str(tmp_path))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "is a folder" in result.stderr and server.chat_requests() == []


def test_out_in_a_missing_folder_creates_it(server, tmp_path):
    server.responder = first_sentence_answer
    out = tmp_path / "nope" / "x.jsonl"
    result = run(SEED, "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text("utf-8"))["status"] == "ok"


def test_out_under_a_file_is_one_clear_error(server, tmp_path):
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "x.jsonl"
    result = run(SEED, "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "cannot create the folder" in result.stderr and server.chat_requests() == []


MARKUP = "bad [/b] input [type=literal_error, input_value='x'] key [redacted]"


def test_table_prints_errors_as_data_not_markup(server, tmp_path):
    server.script(Reply(400, {"error": {"message": MARKUP}}))
    folder = write_articles(tmp_path / "in", {"a": ARTICLE})
    result = run(str(folder), "-m", "fixture-loopback", "--base-url", server.url,
                 "--format", "table", env={"COLUMNS": "400"})  # fmt: skip
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert MARKUP in result.stdout


def test_replay_only_miss_fails_the_article(server, tmp_path):
    result = run(SEED, "-m", "fixture-loopback", "--base-url", server.url,
                 "--cache", "replay-only", "--cache-dir", str(tmp_path / "c"))  # fmt: skip
    assert result.exit_code == 1
    (record,) = json.loads(result.stdout)
    assert "replay-only" in record["error"] and server.requests == []


def test_cache_refresh_rerecords(server, tmp_path):
    server.responder = first_sentence_answer
    common = [
        SEED,
        "-m",
        "fixture-loopback",
        "--base-url",
        server.url,
        "--cache-dir",
        str(tmp_path),
    ]
    assert run(*common).exit_code == 0
    assert run(*common).exit_code == 0
    assert len(server.chat_requests()) == 1
    assert run(*common, "--cache", "refresh").exit_code == 0
    assert len(server.chat_requests()) == 2


def test_no_model_named_but_endpoint_set_is_one_clear_error(server):
    result = run(SEED, "--base-url", server.url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: an endpoint or key is configured but no model")


def test_no_model_and_no_endpoint_uses_the_baseline():
    result = run(SEED, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert "using the offline baseline" in result.stderr
    assert json.loads(result.stdout)["model"] == "baseline"


def test_no_chunking_refuses_a_long_article(server, tmp_path):
    folder = write_articles(tmp_path / "in", {"long": ARTICLE + " Ещё одно предложение." * 200})
    result = run(str(folder), "-m", "fixture-loopback", "--base-url", server.url,
                 "--no-chunking", "--chunk-chars", "2000")  # fmt: skip
    assert result.exit_code == 1
    assert "allow chunking or raise --chunk-chars" in json.loads(result.stdout)[0]["error"]


def test_the_api_key_never_reaches_cache_output_or_logs(server, tmp_path, secret):
    server.script(
        completion(tool=INVALID),
        completion(tool=answer(evidence=[{"text": "нет такой цитаты в статье"}])),
    )
    server.responder = first_sentence_answer
    out = tmp_path / "out.jsonl"
    result = run(SEED, "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out),
                 env={"OPENAI_API_KEY": secret})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert server.chat_requests()[0].headers["authorization"] == f"Bearer {secret}"
    home = Path(os.environ["LLM_EXTRACT_HOME"])
    written = [p for p in [*home.rglob("*"), out] if p.is_file()]
    assert any(p.name == "logs.db" for p in written)  # the cache is its rows: no entry files
    assert not any(p.suffix == ".json" for p in written)
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
    assert secret not in result.output


def test_a_killed_run_restarted_finishes_without_redoing_anything(server, tmp_path):
    texts = {f"a{n}": ARTICLE + f" Статья номер {n}." for n in range(4)}
    texts["a2"] += " SLOW"
    texts["a3"] += " SLOW"
    folder = write_articles(tmp_path / "in", texts)
    out = tmp_path / "out.jsonl"
    slow = {"on": True}

    def respond(request):
        text = article_of(request)
        reply = completion(tool=answer(evidence=[{"text": text.split(".")[0]}]) | {"positions": []})
        if "SLOW" in text and slow["on"]:
            reply.delay = 30
        return reply

    server.responder = respond
    command = [sys.executable, "-c", "from llm_extract.cli import app; app()", "extract",
               str(folder), "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out),
               "--cache", "off", "--no-log", "--concurrency", "4"]  # fmt: skip
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and out.read_text("utf-8").count("\n") == 2:
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert first.returncode == -signal.SIGKILL
    assert out.read_text("utf-8").count("\n") == 2
    slow["on"] = False
    second = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "resuming, 2 of 4 articles already done" in second.stderr
    ids = [json.loads(line)["article_id"] for line in out.read_text("utf-8").splitlines()]
    assert sorted(ids) == ["a0", "a1", "a2", "a3"]  # each exactly once
    asked = Counter(article_of(r).split(" Статья номер ")[1][0] for r in server.chat_requests())
    assert asked["0"] == 1 and asked["1"] == 1  # finished articles were not asked again
    assert asked["2"] == 2 and asked["3"] == 2  # killed mid-call, asked again on restart
