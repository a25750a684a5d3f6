"""What a run does with inputs and endpoints that are wrong: one line, at once, or a
failed result while the batch goes on; never a traceback."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest
from answers import ARTICLE, answer, article_of
from loopback import Reply, completion
from typer.testing import CliRunner

from llm_extract.articles import load_article
from llm_extract.cli import app
from llm_extract.errors import ArticleError

runner = CliRunner()
SEED = "seeds/000_5fadb3ca50ee0a75.txt"


def good(request):
    text = article_of(request)
    return completion(tool=answer(evidence=[{"text": text.split(".")[0]}]) | {"positions": []})


def extract(*args: str, **kwargs):
    return runner.invoke(app, ["extract", *args], **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["-m", "openai/gpt-4o-mini"], {}),
        (["-m", "openai/gpt-4o-mini", "--api-key-env", "NOPE"], {}),
        ([], {"LLM_EXTRACT_MODEL": "openai/gpt-4o-mini"}),
    ],
)
def test_a_provider_model_without_its_key_is_one_line(args, env):
    result = extract(SEED, *args, env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    variable = "NOPE" if "NOPE" in args else "OPENAI_API_KEY"
    assert (
        result.stderr == f"error: openai/gpt-4o-mini: set ${variable} to the provider's API key\n"
    )


def test_eval_with_a_provider_model_without_its_key_is_one_line(tmp_path):
    result = runner.invoke(app, ["eval", "-m", "openai/gpt-4o-mini", "--out", str(tmp_path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "set $OPENAI_API_KEY to the provider's API key" in result.stderr
    assert "Traceback" not in result.output


def test_a_mistyped_path_errors_at_once_and_writes_nothing(server, tmp_path):
    out = tmp_path / "r.jsonl"
    result = extract("seed/", "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == "error: seed: no such file or folder\n"
    assert not out.exists() and server.requests == []


def test_a_dead_endpoint_ends_the_run_in_about_two_seconds(tmp_path, monkeypatch):
    monkeypatch.setenv("LLM_EXTRACT_BACKOFF", "1")
    monkeypatch.setenv("LLM_EXTRACT_BACKOFF_MAX", "30")
    out = tmp_path / "r.jsonl"
    started = time.monotonic()
    result = extract("seeds/", "-m", "qwen", "--base-url", f"http://127.0.0.1:{free_port()}/v1",
                     "-o", str(out))  # fmt: skip
    took = time.monotonic() - started
    assert result.exit_code == 1 and took < 4, took  # was about 20 s
    assert "cannot reach" in result.stderr and "nothing was written" in result.stderr
    assert not out.exists() or out.read_text("utf-8") == ""


def test_an_endpoint_answering_html_with_200_stops_the_run(server, tmp_path):
    server.responder = lambda _r: Reply(200, "<!doctype html><html><body>Router login</body>")
    out = tmp_path / "r.jsonl"
    result = extract("seeds/", "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out),
                     "--concurrency", "1")  # fmt: skip
    assert result.exit_code == 1
    assert "not a chat completion" in result.stderr and "stopped after 3 articles" in result.stderr
    assert len(server.chat_requests()) == 3 * 5  # three articles, then the run stopped
    assert out.read_text("utf-8") == ""  # nothing written: the next run tries them again


def test_unreadable_files_folders_and_fifos_are_failed_results(server, tmp_path):
    server.responder = good
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(ARTICLE, "utf-8")
    (folder / "sub.txt").mkdir()
    os.mkfifo(folder / "pipe.txt")
    out = tmp_path / "r.jsonl"
    started = time.monotonic()
    result = extract(str(folder), "/proc/self/mem", "-m", "fixture-loopback",
                     "--base-url", server.url, "-o", str(out))  # fmt: skip
    assert time.monotonic() - started < 10  # the FIFO was not opened (that waits forever)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    records = {
        json.loads(x)["article_id"]: json.loads(x) for x in out.read_text("utf-8").splitlines()
    }
    assert records["good"]["status"] == "ok"
    assert "a folder, not an article file" in records["sub"]["error"]
    assert "not a regular file" in records["pipe"]["error"]
    assert "cannot read it" in records["mem"]["error"]
    assert {r["failure"] for k, r in records.items() if k != "good"} == {"input"}
    again = extract(str(folder), "/proc/self/mem", "-m", "fixture-loopback",
                    "--base-url", server.url, "-o", str(out))  # fmt: skip
    assert "resuming, 4 of 4 articles already done" in again.stderr  # reruns do not stop there


def test_a_folder_that_cannot_be_listed_is_a_failed_result(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root lists any folder")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    try:
        with pytest.raises(ArticleError, match="cannot be listed"):
            load_article(locked)
    finally:
        locked.chmod(0o755)


def test_empty_stdin_is_a_failed_result_beside_the_files_given(server, tmp_path):
    server.responder = good
    (tmp_path / "a.txt").write_text(ARTICLE, "utf-8")
    result = extract("-", str(tmp_path / "a.txt"), "-m", "fixture-loopback",
                     "--base-url", server.url, input="")  # fmt: skip
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    stdin, file = json.loads(result.stdout)
    assert stdin["status"] == "failed" and "empty" in stdin["error"]
    assert file["status"] == "ok"


def test_nul_bytes_after_the_first_8_kb_are_refused(tmp_path):
    path = tmp_path / "late.txt"
    path.write_bytes(ARTICLE.encode("utf-8") * 40 + b"\x00\x00" + b" tail")
    assert path.stat().st_size > 8192
    with pytest.raises(ArticleError, match="NUL bytes"):
        load_article(path)


def test_a_utf16_file_with_its_bom_is_still_read(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes(b"\xff\xfe" + (ARTICLE * 30).encode("utf-16-le"))
    assert load_article(path).text.startswith("Помощник президента")


def test_a_folder_given_as_a_file_path_says_so(tmp_path):
    with pytest.raises(ArticleError, match="a folder, not an article file"):
        load_article(Path(tmp_path))
