"""Session fixtures for the integration suite: a real llama-server on 127.0.0.1.

The binary and the model are built or reused through `llama_server.py` (a cache outside
the clone); the only allowed skip is a missing build toolchain, and its reason is shown
(`pytest -m integration -rs`). Each server's log goes to the session's temp folder and
its path is printed when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from llama_server import (
    MODEL_ALIAS,
    LlamaCppPythonServer,
    LlamaServer,
    LocalServer,
    ToolchainMissing,
    ensure_llama_cpp_python,
    ensure_llama_server,
    ensure_model,
)

from llm_extract.schemas import ExtractionResult

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
KEY = "sk-test-integration"

CTX_SIZE = 12288
"""Room for the longest prompt (md_json: system text, worked example and schema, 6.6k
tokens), its answer and the re-asks that repeat both."""
MAX_TOKENS = 512
"""Enough for a small answer; a tiny model that rambles is cut off and that failure recorded."""


SAMPLING = ("--repeat-penalty", "1.5", "--presence-penalty", "0.5")
"""Server-side defaults (the engine sends only temperature 0): without them the 270M model
repeats one evidence item until the token cap on every seed; with them it ends its answer."""


def _say(config: pytest.Config, message: str) -> None:
    """Progress of a long build, shown live even while pytest captures output."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.write_line(f"[integration] {message}")


@pytest.fixture(scope="session")
def llama_binary(pytestconfig: pytest.Config) -> Path:
    started = time.monotonic()
    try:
        binary = ensure_llama_server(log=lambda message: _say(pytestconfig, message))
    except ToolchainMissing as missing:
        pytest.skip(f"integration suite skipped: {missing}")
    _say(pytestconfig, f"llama-server ready in {time.monotonic() - started:.1f} s: {binary}")
    return binary


@pytest.fixture(scope="session")
def gguf_model(pytestconfig: pytest.Config) -> Path:
    return ensure_model(log=lambda message: _say(pytestconfig, message))


def _options(logs: Path, name: str) -> dict:
    return {"ctx_size": CTX_SIZE, "log_path": logs / f"{name}.log"}


@pytest.fixture(scope="session")
def llama(
    llama_binary: Path, gguf_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    """Upstream llama-server with our Jinja chat template: it takes every mode."""
    logs = tmp_path_factory.mktemp("logs")
    extra = ("--metrics", *SAMPLING)
    with LlamaServer(
        llama_binary, gguf_model, extra_args=extra, **_options(logs, "llama-server")
    ) as server:
        yield server


@pytest.fixture(scope="session")
def llama_no_jinja(
    llama_binary: Path, gguf_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaServer]:
    """The same server started without Jinja (a built-in template), as many guides do.

    It answers `tools` with HTTP 500 "tools param requires --jinja flag".
    """
    logs = tmp_path_factory.mktemp("logs")
    with LlamaServer(
        llama_binary, gguf_model, jinja=False, extra_args=SAMPLING,
        **_options(logs, "llama-server-no-jinja"),
    ) as server:  # fmt: skip
        yield server


@pytest.fixture(scope="session")
def llama_cpp_python(
    pytestconfig: pytest.Config, gguf_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LlamaCppPythonServer]:
    """llama-cpp-python's server: HTTP 500 on `json_schema`, forced tool calls work."""
    started = time.monotonic()
    try:
        python = ensure_llama_cpp_python(log=lambda message: _say(pytestconfig, message))
    except ToolchainMissing as missing:
        pytest.skip(f"llama-cpp-python tests skipped: {missing}")
    _say(pytestconfig, f"llama-cpp-python ready in {time.monotonic() - started:.1f} s")
    logs = tmp_path_factory.mktemp("logs")
    with LlamaCppPythonServer(python, gguf_model, **_options(logs, "llama-cpp-python")) as server:
        yield server


@dataclass
class Matrix:
    """Server x mode outcomes measured in this session, printed at the end of the run."""

    rows: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, server: str, mode: str, result: ExtractionResult, run: Run) -> None:
        """One row per article; `run.seconds` covers every article of the run."""
        used = result.mode or "?"
        if used != mode:
            server_said = f"rejected {mode}, engine fell back to {used}"
        elif result.usage.requests == 0:
            server_said = "refused every attempt"
        else:
            server_said = "accepted"
        outcome = "valid result" if result.status == "ok" else f"failed: {result.error}"
        self.rows.append(
            (
                server,
                mode,
                result.article_id[:3],
                server_said,
                outcome[:160],
                f"{result.usage.requests} req, {result.usage.input_tokens}"
                f"+{result.usage.output_tokens} tok, {run.seconds:.0f} s",
            )
        )


_MATRIX = pytest.StashKey[Matrix]()


@pytest.fixture(scope="session")
def matrix(pytestconfig: pytest.Config) -> Matrix:
    return pytestconfig.stash.setdefault(_MATRIX, Matrix())


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    measured = config.stash.get(_MATRIX, None)
    if not measured or not measured.rows:
        return
    terminalreporter.section("compatibility matrix (measured)")
    terminalreporter.write_line("server | mode | seed | server's answer | result | usage")
    for row in measured.rows:
        terminalreporter.write_line(" | ".join(row))


@dataclass
class Run:
    """One `llm-extract extract` process: its exit code, output and the results it printed."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def results(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def explain(self) -> str:
        return f"exit {self.returncode} after {self.seconds:.1f} s\nstderr:\n{self.stderr[-3000:]}"


@pytest.fixture
def extract_cli(tmp_path: Path):
    """Run the real command in a subprocess, as a user would, against a served model."""

    def run(server: LocalServer, *args: str, timeout: float = 900) -> Run:
        env = {
            **os.environ,
            "OPENAI_API_KEY": KEY,
            "LLM_EXTRACT_HOME": str(tmp_path / "home"),
            # the offline unit suite's tiny timeout and backoff do not fit a CPU-bound model
            "LLM_EXTRACT_TIMEOUT": "600",
            "LLM_EXTRACT_BACKOFF": "0.5",
            "LLM_EXTRACT_BACKOFF_MAX": "2",
        }
        command = [
            str(Path(sys.executable).with_name("llm-extract")), "extract",
            "--model", MODEL_ALIAS, "--base-url", server.base_url,
            "--format", "jsonl", "--max-tokens", str(MAX_TOKENS), "--concurrency", "1",
            *args,
        ]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout
        )
        return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    return run
