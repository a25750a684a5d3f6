"""Settings as objects: read from the environment once, every variable written out, one answer
to "is an endpoint configured?", and the library's entry points taking the objects."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import pytest

import llm_extract
from llm_extract.errors import ConfigError
from llm_extract.settings import (
    CHUNK_OVERLAP,
    DEFAULT_API_KEY_ENV,
    ENV_VARIABLES,
    CallSettings,
    EndpointSettings,
    ExtractionSettings,
    RunSettings,
    model_slug,
)

PACKAGE = Path(llm_extract.__file__).parent
ROOT = PACKAGE.parent
SEED = ROOT / "seeds" / "000_5fadb3ca50ee0a75.txt"


def _source() -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(PACKAGE.rglob("*.py")))


def test_every_variable_the_package_reads_is_written_out_and_listed() -> None:
    source = _source()
    for name in ENV_VARIABLES:
        assert re.search(rf'"{name}"', source), f"{name} is not written out literally"
    used = set(re.findall(r'"(LLM_EXTRACT_[A-Z_]+)"', source))
    assert used <= set(ENV_VARIABLES), used - set(ENV_VARIABLES)


def test_the_readme_table_names_every_variable() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    table = readme[readme.index("| variable | what it sets |") :].split("\n\n")[0]
    for name in ENV_VARIABLES:
        assert f"`{name}`" in table, name


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("timeout", "LLM_EXTRACT_TIMEOUT"),
        ("retries", "LLM_EXTRACT_RETRIES"),
        ("backoff", "LLM_EXTRACT_BACKOFF"),
        ("backoff_max", "LLM_EXTRACT_BACKOFF_MAX"),
        ("retry_after_max", "LLM_EXTRACT_RETRY_AFTER_MAX"),
        ("rpm", "LLM_EXTRACT_RPM"),
        ("temperature", "LLM_EXTRACT_TEMPERATURE"),
        ("max_tokens", "LLM_EXTRACT_MAX_TOKENS"),
    ],
)
def test_call_settings_read_each_variable_and_options_win(
    field: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "7")
    assert getattr(CallSettings.from_env(), field) == 7
    assert getattr(CallSettings.from_env(**{field: 3}), field) == 3
    monkeypatch.setenv(variable, "seven")
    with pytest.raises(ConfigError, match=f"{variable}='seven' is not a number"):
        CallSettings.from_env()


def test_call_settings_refuse_what_would_mean_no_wait_or_no_call() -> None:
    for bad in ({"timeout": 0}, {"rpm": -1}, {"max_tokens": 0}, {"timeout": math.inf}):
        with pytest.raises(ConfigError):
            CallSettings(**bad)
    with pytest.raises(ConfigError, match="retries must be 0 or more"):
        CallSettings(retries=-1)


def test_endpoint_settings_read_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_EXTRACT_MODEL", "qwen2.5:7b")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MY_KEY", "sk-secret-123456")
    endpoint = EndpointSettings.from_env(api_key_env="MY_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")  # read once: a later change is not seen
    assert endpoint.model == "qwen2.5:7b"
    assert endpoint.env_base_url == "http://127.0.0.1:9/v1"
    assert endpoint.configured
    assert "sk-secret" not in repr(endpoint)
    assert EndpointSettings.from_env("baseline").model == "baseline"  # the option wins
    with pytest.raises(ConfigError, match="unknown mode 'xml'"):
        EndpointSettings(mode="xml")


@pytest.mark.parametrize(
    "environment",
    [{}, {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, {DEFAULT_API_KEY_ENV: "sk-a-real-key"}],
)
@pytest.mark.parametrize("base_url", [None, "http://127.0.0.1:9/v1"])
def test_one_answer_to_is_an_endpoint_configured(
    environment: dict[str, str], base_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's own answer today (no model named: baseline, or an error) agrees."""
    from llm_extract.extraction import resolve_model

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    endpoint = EndpointSettings.from_env(base_url=base_url)
    try:
        resolve_model(endpoint)
        engine_says = False
    except ConfigError:
        engine_says = True
    assert endpoint.configured is engine_says
    assert endpoint.configured is bool(environment or base_url)  # the rule itself, per case


def test_run_and_extraction_settings_check_their_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="concurrency must be at least 1"):
        RunSettings(concurrency=0)
    with pytest.raises(ConfigError, match="unknown cache mode"):
        RunSettings(cache="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=f"at least {2 * CHUNK_OVERLAP}"):
        ExtractionSettings(chunk_chars=10)
    monkeypatch.setenv("LLM_EXTRACT_CACHE_DIR", "/tmp/elsewhere.db")
    monkeypatch.setenv("LLM_EXTRACT_ALIASES", "/tmp/aliases.json")
    assert RunSettings.from_env().cache_dir == Path("/tmp/elsewhere.db")
    assert ExtractionSettings.from_env().aliases == Path("/tmp/aliases.json")
    assert RunSettings.from_env(cache_dir=Path("x.db")).cache_dir == Path("x.db")


def test_the_library_takes_the_objects(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    [result] = llm_extract.extract(
        [SEED],
        endpoint=EndpointSettings(model="baseline"),
        extraction=ExtractionSettings(published=dt.date(2026, 1, 1)),
        run=RunSettings(out=out, cache="off", log=False, progress=False),
    )
    assert result.status == "ok" and result.published == dt.date(2026, 1, 1)
    assert json.loads(out.read_text("utf-8"))["article_id"] == result.article_id
    again = llm_extract.extract_article(
        SEED, endpoint=EndpointSettings(model="baseline"), published=dt.date(2026, 1, 1)
    )
    assert again.extraction == result.extraction


def test_eval_takes_the_objects(tmp_path: Path) -> None:
    [run] = llm_extract.evaluate(
        ["fixture-careful"],
        out=None,
        endpoint=EndpointSettings.from_env(),
        call=CallSettings(timeout=5),
        run=RunSettings(cache="off", log=False, concurrency=2),
    )
    assert run.meta.articles == 5 and run.meta.failed == 0
    assert not (tmp_path / "llm-extract-home" / "logs.db").exists()


def test_a_run_is_stored_in_the_folder_the_cache_names_its_model_by(tmp_path: Path) -> None:
    from llm_extract.cache import Cache
    from llm_extract.evaluation import Run, RunMeta, store_run
    from llm_extract.score import Scorecard

    for name in ("openai/gpt-4o-mini", "qwen2.5:7b", "fixture-careful"):
        folder = store_run(Run(RunMeta(name=name), Scorecard([], []), []), tmp_path / "runs")
        assert folder.name == Cache(tmp_path / "c").path(name, "k").parent.name == model_slug(name)
    assert model_slug("..") == "model"  # never a way out of the run store
