"""Every test runs offline, with its own user folder and fast transport retries.

A guard refuses any connection or name lookup that is not the loopback
interface, so no test can reach a real endpoint, whatever it configures.
Tests that need a model use `server` (a `loopback.LoopbackServer`) with the
real openai client. Browser tests use `browser`: the system Chromium
(/usr/bin/chromium, Debian's package) driven headless by Playwright; without
it they skip and say why.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback import LoopbackServer

from llm_extract.settings import ENV_VARIABLES

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
FIXTURES = ROOT / "evals" / "fixtures"
CHROMIUM = Path(os.environ.get("LLM_EXTRACT_CHROMIUM", "/usr/bin/chromium"))
"""The browser the browser tests drive: the distribution's package, never a download."""

SECRET = "sk-test-SECRET123"
"""The dummy API key tests use; it must never show up in a file we write."""

_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}


def _local(host: object) -> bool:
    if host is None or isinstance(host, bytes | bytearray):
        return host is None or bytes(host).decode() in _LOCAL_NAMES
    if str(host) in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


class OfflineError(RuntimeError):
    """A test tried to reach the network."""


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "llm-extract-home"
    monkeypatch.setenv("LLM_EXTRACT_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    # Every variable the package reads (settings.ENV_VARIABLES), so the developer's own
    # LLM_EXTRACT_TEMPERATURE or LLM_EXTRACT_ALIASES never leaks into a test; and the
    # openai SDK's organisation and project.
    for name in (*ENV_VARIABLES, "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        if name != "LLM_EXTRACT_HOME":
            monkeypatch.delenv(name, raising=False)
    # Tiny backoff through configuration, the way a user would set it.
    monkeypatch.setenv("LLM_EXTRACT_BACKOFF", "0.01")
    monkeypatch.setenv("LLM_EXTRACT_BACKOFF_MAX", "0.02")
    monkeypatch.setenv("LLM_EXTRACT_TIMEOUT", "10")

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):  # type: ignore[index]
            raise OfflineError(f"tests are offline: refused a connection to {address}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):  # type: ignore[index]
            raise OfflineError(f"tests are offline: refused a connection to {address}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not _local(host):
            raise OfflineError(f"tests are offline: refused to look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture(scope="session")
def fixture_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """fixture-careful's and fixture-sloppy's results on the seeds (JSONL), replayed by the
    real engine from the shipped cache: offline, the path a recorded model's answers take.

    The engine runs in a thread of its own: Playwright's sync API (`browser`) keeps an
    event loop running in this one, and the engine starts its own.
    """
    from concurrent.futures import ThreadPoolExecutor

    from llm_extract.cache import Cache
    from llm_extract.extraction import extract

    folder = tmp_path_factory.mktemp("fixture-results")
    paths = {}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LLM_EXTRACT_HOME", str(folder / "home"))
        for model in ("fixture-careful", "fixture-sloppy"):
            paths[model] = folder / f"{model}.jsonl"
            with ThreadPoolExecutor(1) as worker:
                worker.submit(
                    extract,
                    sorted(SEEDS.glob("*.txt")),
                    model=model,
                    cache=Cache(FIXTURES / "cache", mode="replay-only"),
                    out=paths[model],
                    progress=False,
                ).result()
    return paths


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless system Chromium through Playwright; skips when either is missing.

    Per module: while Playwright's sync API runs it holds an event loop in this thread,
    and later tests that start their own (`asyncio.run`) must not find it there.
    """
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("browser tests need playwright (pip install -e '.[dev]')")
    if not CHROMIUM.is_file():
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium to run the browser tests")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        except Error as err:
            pytest.skip(f"{CHROMIUM} does not start headless: {str(err).splitlines()[0]}")
        yield launched
        launched.close()
