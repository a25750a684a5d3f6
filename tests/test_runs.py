"""Runs as users start them, several at once, killed, interrupted and resumed: real
`llm-extract extract` processes against the loopback server (or the baseline)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from answers import ARTICLE, answer, article_of
from loopback import LoopbackServer, completion
from typer.testing import CliRunner

from llm_extract.cache import CallLog
from llm_extract.cli import app
from llm_extract.runlock import OutputLock

runner = CliRunner()
CLI = [sys.executable, "-c", "from llm_extract.cli import app; app()", "extract"]
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def numbered(request) -> int:
    return int(article_of(request).rsplit("Статья номер ", 1)[1].split(".")[0])


def good(request) -> completion:
    text = article_of(request)
    return completion(tool=answer(evidence=[{"text": text.split(".")[0]}]) | {"positions": []})


def corpus(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"a{n:03}.txt").write_text(ARTICLE + f" Статья номер {n}.", "utf-8")
    return folder


def ids_in(out: Path) -> list[str]:
    return [json.loads(line)["article_id"] for line in out.read_text("utf-8").splitlines()]


def home() -> Path:
    return Path(os.environ["LLM_EXTRACT_HOME"])


def assert_sound(db: Path) -> None:
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# --- the lock on --out ------------------------------------------------------------------


def test_a_second_run_on_the_same_out_is_refused_at_once(server, tmp_path):
    server.responder = good
    out = tmp_path / "r.jsonl"
    held = OutputLock.acquire(out)
    try:
        result = runner.invoke(app, ["extract", str(corpus(tmp_path / "in", 2)),
                                     "-m", "fixture-loopback", "--base-url", server.url,
                                     "-o", str(out)])  # fmt: skip
    finally:
        held.release()
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {out} is being written by another llm-extract run (pid {os.getpid()}); wait "
        "for it or use another --results (--wait-for-lock queues behind it)"
    )
    assert server.chat_requests() == [] and not out.exists()


def test_wait_for_lock_queues_behind_the_run_that_holds_it(server, tmp_path):
    server.responder = good
    out = tmp_path / "r.jsonl"
    held = OutputLock.acquire(out)
    releaser = threading.Timer(0.6, held.release)
    releaser.start()
    started = time.monotonic()
    result = runner.invoke(app, ["extract", str(corpus(tmp_path / "in", 2)),
                                 "-m", "fixture-loopback", "--base-url", server.url,
                                 "-o", str(out), "--wait-for-lock"])  # fmt: skip
    releaser.join()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.6
    assert "waiting for the run that writes it" in result.stderr
    assert sorted(ids_in(out)) == ["a000", "a001"]
    assert not (tmp_path / "r.jsonl.lock").exists()


def test_a_killed_holder_leaves_no_lock_that_blocks(server, tmp_path):
    server.responder = good
    out = tmp_path / "r.jsonl"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from llm_extract.runlock import OutputLock; OutputLock.acquire(Path(sys.argv[1])); "
         "print('held', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(10)
    assert (tmp_path / "r.jsonl.lock").exists()  # the file stays; the kernel dropped the lock
    result = runner.invoke(app, ["extract", str(corpus(tmp_path / "in", 1)),
                                 "-m", "fixture-loopback", "--base-url", server.url,
                                 "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert ids_in(out) == ["a000"]


# --- soak: four processes at once -----------------------------------------------------


def run_together(
    commands: list[list[str]], timeout: float = 60
) -> list[subprocess.CompletedProcess]:
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    done = []
    for proc, command in zip(procs, commands, strict=True):
        stdout, stderr = proc.communicate(timeout=timeout)
        done.append(subprocess.CompletedProcess(command, proc.returncode, stdout, stderr))
    return done


def test_four_runs_at_once_on_one_out_and_a_fresh_home_do_each_article_once(server, tmp_path):
    """Loopback model, fresh LLM_EXTRACT_HOME: four processes open logs.db for the first
    time together (its migrations), two queue behind the lock and two are refused."""
    server.responder = good
    folder = corpus(tmp_path / "in", 40)
    out = tmp_path / "r.jsonl"
    base = [*CLI, str(folder), "-m", "fixture-loopback", "--base-url", server.url,
            "-o", str(out), "--concurrency", "8"]  # fmt: skip
    runs = run_together([[*base, "--wait-for-lock"]] * 2 + [base] * 2)
    for run in runs:
        assert "Traceback" not in run.stderr, run.stderr
    assert [r.returncode for r in runs[:2]] == [0, 0], [r.stderr for r in runs]
    for run in runs[2:]:
        assert run.returncode == 0 or "is being written by another llm-extract run" in run.stderr
    assert sorted(ids_in(out)) == [f"a{n:03}" for n in range(40)]  # each exactly once
    assert len(server.chat_requests()) == 40  # and asked once
    assert_sound(home() / "logs.db")
    assert len(CallLog(home() / "logs.db").rows(status="ok", cached=0)) == 40


def test_four_baseline_runs_at_once_do_each_article_once(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        for seed in sorted(SEEDS.glob("*.txt")):
            (folder / f"{n}-{seed.name}").write_bytes(seed.read_bytes())
    out = tmp_path / "r.jsonl"
    runs = run_together([[*CLI, str(folder), "-m", "baseline", "-o", str(out)]] * 4, 120)
    for run in runs:
        assert "Traceback" not in run.stderr, run.stderr
        assert run.returncode == 0 or "is being written by another" in run.stderr, run.stderr
    assert sum(r.returncode == 0 for r in runs) >= 1
    assert Counter(ids_in(out)) == Counter({p.stem: 1 for p in folder.iterdir()})
    assert_sound(home() / "logs.db")


# --- killed and resumed ---------------------------------------------------------------


def wait_for_lines(out: Path, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.005)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_run_killed_at_a_random_point_resumes_to_each_article_once(server, tmp_path, seed):
    rng = random.Random(seed)
    count = 24
    folder = corpus(tmp_path / "in", count)
    out = tmp_path / "r.jsonl"

    def respond(request):
        reply = good(request)
        reply.delay = 0.02 + 0.02 * ((numbered(request) * 7 + seed) % 5)
        return reply

    server.responder = respond
    args = [str(folder), "-m", "fixture-loopback", "--base-url", server.url, "-o", str(out),
            "--concurrency", "4"]  # fmt: skip
    killed = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_lines(out, rng.randint(1, count - 4), killed)
    time.sleep(rng.random() * 0.05)
    killed.kill()
    killed.wait(10)
    assert killed.returncode == -signal.SIGKILL
    killed_at = time.monotonic()
    written = set(ids_in(out))  # every line whole: a torn one would not parse here
    assert written and len(written) < count
    logged = {r["article_id"] for r in CallLog(home() / "logs.db").rows(status="ok")}
    assert written <= logged  # a written result's call row survived the kill
    asked_before = len(server.chat_requests())
    resumed = runner.invoke(app, ["extract", *args])
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming, {len(written)} of {count} articles already done" in resumed.stderr
    asked_after = server.chat_requests()[asked_before:]
    assert not {f"a{numbered(r):03}" for r in asked_after} & written  # none asked again
    assert all(r.received_at > killed_at for r in asked_after)
    assert Counter(ids_in(out)) == Counter({f"a{n:03}": 1 for n in range(count)})
    assert_sound(home() / "logs.db")


def test_ctrl_c_says_what_finished_and_exits_130(tmp_path):
    def respond(request):
        reply = good(request)
        reply.delay = 0.15
        return reply

    folder = corpus(tmp_path / "in", 12)
    out = tmp_path / "r.jsonl"
    with LoopbackServer(respond) as server:
        command = [*CLI, str(folder), "-m", "fixture-loopback", "--base-url", server.url,
                   "-o", str(out), "--concurrency", "2"]  # fmt: skip
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for_lines(out, 2, run)
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=20)
        assert run.returncode == 130, stderr
        assert "Traceback" not in stderr
        finished = len(ids_in(out))
        assert f"interrupted: {finished} of 12 articles finished in this run" in stderr
        assert "Run the same command again to resume" in stderr
        again = runner.invoke(app, command[len(CLI) - 1 :])
        assert again.exit_code == 0, again.output
        assert f"resuming, {finished} of 12 articles already done" in again.stderr
        assert sorted(ids_in(out)) == [f"a{n:03}" for n in range(12)]


# --- results files a killed run left ----------------------------------------------------


def result_line(server, tmp_path) -> str:
    server.responder = good
    out = tmp_path / "first.jsonl"
    folder = corpus(tmp_path / "one", 1)
    result = runner.invoke(app, ["extract", str(folder), "-m", "fixture-loopback",
                                 "--base-url", server.url, "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out.read_text("utf-8")


@pytest.mark.parametrize("tail", [b"", b"\n"])
def test_a_last_line_cut_inside_a_utf8_character_is_mended_on_every_rerun(server, tmp_path, tail):
    first = result_line(server, tmp_path)
    raw = first.encode("utf-8")
    cut = raw.index("Женев".encode()) + 1  # inside the two bytes of "Ж"
    folder = corpus(tmp_path / "in", 3)
    out = tmp_path / "r.jsonl"
    out.write_bytes(raw.replace(b'"a000"', b'"a001"') + raw[:cut] + tail)
    command = ["extract", str(folder), "-m", "fixture-loopback", "--base-url", server.url,
               "-o", str(out)]  # fmt: skip
    for _ in range(2):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        assert sorted(ids_in(out)) == ["a000", "a001", "a002"]
    out.write_bytes(out.read_bytes() + raw[:cut] + tail)
    result = runner.invoke(app, [*command, "--retry-failed"])
    assert result.exit_code == 0, result.output
    assert "dropping an unfinished last line" in result.stderr
    assert sorted(ids_in(out)) == ["a000", "a001", "a002"]
