"""The Ray Data pipeline on a local Ray (2 CPUs) against the loopback stand-in of test_batch.

The stand-in answers each seed with `fixture-careful`'s replies (`fixture-sloppy`'s
for the seed whose first answer fails validation), so the Ray run must give the
results live extraction gives, having sent the very same request bodies.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip(
    "ray.data.llm", reason="Ray Data is not installed: pip install -e '.[dev,ray]' runs these"
)

import pyarrow.parquet as pq
import ray
from loopback import LoopbackServer
from test_batch import MODEL, SEEDS, SLOPPY, StandIn, _comparable, _replies
from typer.testing import CliRunner

from llm_extract.cache import Cache
from llm_extract.cli import app
from llm_extract.cli.distributed import _engine_options
from llm_extract.client import ClientConfig
from llm_extract.distributed import (
    RaySettings,
    VLLMEngine,
    _renderer,
    _settle,
    _vllm_postprocess,
    _vllm_preprocess,
    extract_dataset,
    extract_to_file,
    vllm_processor_config,
)
from llm_extract.errors import ConfigError
from llm_extract.extraction import extract, read_results
from llm_extract.results_parquet import row_result
from llm_extract.schemas import ExtractionResult
from llm_extract.settings import EndpointSettings, ExtractionSettings


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def api(local_ray):
    with LoopbackServer(StandIn(_replies())) as server:
        yield server


def _first_asks(server: LoopbackServer) -> list[str]:
    """The bodies of first requests (system + user), as canonical JSON."""
    bodies = [r.json for r in server.chat_requests()]
    return sorted(json.dumps(b, sort_keys=True) for b in bodies if len(b["messages"]) == 2)


def test_the_seeds_give_the_results_and_requests_of_live_extraction(api, tmp_path, secret):
    live = extract(
        SEEDS, model=MODEL, base_url=api.url, mode="json_schema", cache=Cache(mode="off")
    )
    live_asks = _first_asks(api)
    api.requests.clear()

    out = tmp_path / "results.jsonl"
    settings = RaySettings(EndpointSettings(MODEL, base_url=api.url, api_key=secret))
    assert secret not in repr(settings)
    summary = extract_to_file(SEEDS, settings, out=out)

    assert (summary.ok, summary.failed, summary.reasked) == (5, 0, 1)
    assert len(api.chat_requests()) == len(SEEDS) + 1  # one first ask each, one re-ask
    assert _first_asks(api) == live_asks
    # the re-ask comes from a worker, whose environment is not the driver's
    assert {r.headers.get("authorization") for r in api.chat_requests()} == {f"Bearer {secret}"}
    assert secret not in out.read_text("utf-8")
    results = {r.article_id: r for r in read_results(out)}
    assert results[SLOPPY].reasks == 1
    assert {r.article_id: _comparable(r) for r in live} == {
        k: _comparable(r) for k, r in results.items()
    }


def test_no_reasks_leaves_the_invalid_answer_failed(api):
    settings = RaySettings(
        EndpointSettings(MODEL, base_url=api.url), extraction=ExtractionSettings(max_reasks=0)
    )
    rows = extract_dataset(ray.data.from_items([{"path": str(SEEDS[0])}]), settings).take_all()
    [row] = rows
    assert (row["article_id"], row["status"], row["reasks"]) == (SLOPPY, "failed", 0)
    assert "failed validation" in json.loads(row["result"])["error"]
    assert len(api.chat_requests()) == 1


def test_a_rerun_skips_finished_articles_and_a_bad_file_fails_alone(api, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    settings = RaySettings(EndpointSettings(MODEL, base_url=api.url))
    first = extract_to_file([*SEEDS[1:3], empty], settings, out=out)
    assert (first.ok, first.failed) == (2, 1)
    assert len(api.chat_requests()) == 2  # nothing is sent for the unreadable file
    bad = next(r for r in read_results(out) if r.article_id == "empty")
    assert bad.failure == "input" and bad.error

    again = extract_to_file(SEEDS[1:4], settings, out=out)
    assert (again.done_before, again.ok, again.failed) == (2, 1, 0)
    assert len(api.chat_requests()) == 3
    assert sorted(r.article_id for r in read_results(out)) == sorted(
        [p.stem for p in SEEDS[1:4]] + ["empty"]
    )


def test_cli_batch_ray(api, tmp_path):
    out = tmp_path / "results.jsonl"
    args = ["batch", "ray", *map(str, SEEDS[1:3]), "--model", MODEL, "--base-url", api.url]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--address", "auto"])
    assert result.exit_code == 0, result.output
    assert "2 ok, 0 failed" in result.output
    assert len(read_results(out)) == 2

    table = tmp_path / "results.parquet"
    result = CliRunner().invoke(app, [*args, "--out", str(table), "--address", "auto"])
    assert result.exit_code == 0, result.output
    assert "2 ok, 0 failed" in result.output
    assert sorted(pq.read_table(table)["article_id"].to_pylist()) == [p.stem for p in SEEDS[1:3]]
    result = CliRunner().invoke(app, [*args, "--out", str(table), "--format", "parquet"])
    assert "0 ok, 0 failed, 0 re-asked, 2 done before" in result.output


def test_cli_batch_ray_vllm_options_are_checked(tmp_path):
    args = [
        "batch",
        "ray",
        str(SEEDS[1]),
        "--model",
        "Qwen/Qwen3-8B",
        "--out",
        str(tmp_path / "r.jsonl"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "needs --base-url" in result.output
    result = CliRunner().invoke(app, [*args, "--engine", "vllm", "--qps", "5"])
    assert result.exit_code == 1 and "--qps caps the HTTP workers" in result.output
    result = CliRunner().invoke(app, [*args, "--engine", "vllm", "--engine-arg", "max_model_len"])
    assert result.exit_code == 1 and "write KEY=VALUE" in result.output
    http = [*args, "--base-url", "http://127.0.0.1:9/v1"]
    result = CliRunner().invoke(app, [*http, "--engine-arg", "max_model_len=8192"])
    assert result.exit_code == 1 and "are for --engine vllm" in result.output


def test_parquet_out_holds_the_extract_results_and_a_rerun_skips_them(api, tmp_path):
    live = extract(
        SEEDS[1:4], model=MODEL, base_url=api.url, mode="json_schema", cache=Cache(mode="off")
    )
    api.requests.clear()
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "results.parquet"
    settings = RaySettings(EndpointSettings(MODEL, base_url=api.url))

    first = extract_to_file([*SEEDS[1:3], empty], settings, out=out, part_rows=2)
    assert (first.ok, first.failed) == (2, 1)
    assert len(list(out.glob("*.parquet"))) == 2  # parts of 2 and 1 results
    again = extract_to_file(SEEDS[1:4], settings, out=out)
    assert (again.done_before, again.ok, again.failed) == (2, 1, 0)
    assert len(api.chat_requests()) == 3  # nothing sent twice, nothing for the empty file

    rows = pq.read_table(out).to_pylist()
    assert sorted(row["article_id"] for row in rows) == sorted(
        [p.stem for p in SEEDS[1:4]] + ["empty"]
    )
    results = {row["article_id"]: row_result(row) for row in rows}
    assert results["empty"].failure == "input"
    assert {r.article_id: _comparable(r) for r in live} == {
        k: _comparable(r) for k, r in results.items() if k != "empty"
    }
    with pytest.raises(ConfigError, match="holds results of"):
        extract_to_file(
            SEEDS[1:4], RaySettings(EndpointSettings("fixture-other", base_url=api.url)), out=out
        )


# --- the vLLM engine path, without vLLM ---------------------------------------------------
# No GPU and no vLLM here: the processor's config is built and inspected, and our
# preprocess and postprocess run in a local Ray Data pipeline around a stand-in for the
# engine stage, which answers as vLLM's engine rows do (`vLLMOutputData` in
# ray/llm/_internal/batch/stages/vllm_engine_stage.py: `generated_text`,
# `num_generated_tokens`, ... beside the input columns).


def test_the_vllm_config_loads_the_engine_and_keeps_a_failed_row():
    engine = VLLMEngine(
        "Qwen/Qwen3-8B",
        engine_kwargs={"max_model_len": 16384, "tensor_parallel_size": 2},
        replicas=3,
        batch_size=16,
        accelerator_type="A100",
    )
    config = vllm_processor_config(engine)
    assert isinstance(config, ray.data.llm.vLLMEngineProcessorConfig)
    assert (config.model_source, config.concurrency, config.batch_size) == ("Qwen/Qwen3-8B", 3, 16)
    assert config.accelerator_type == "A100"
    assert config.engine_kwargs == {
        "max_model_len": 16384,
        "tensor_parallel_size": 2,
        "task_type": "generate",
    }
    assert config.should_continue_on_error  # an engine error fails its article, not the run
    assert config.chat_template_stage and config.tokenize_stage and config.detokenize_stage


def _engine(rows: list[dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A stand-in for the engine stage, answering `rows` (preprocessed) with the fixture
    replies: it adds vLLM's output columns to the input row. Built here and returned as
    a closure, so Ray ships it to the workers by value (they cannot import tests)."""
    stand_in = StandIn(_replies())
    answers = {}
    for row in rows:
        messages = [dict(m) for m in row["messages"]]
        reply = stand_in.chat({"messages": messages, "model": MODEL})
        answer = reply.body["choices"][0]["message"]["content"] if reply.status == 200 else ""
        answers[messages[-1]["content"]] = answer

    def engine(row: dict[str, Any]) -> dict[str, Any]:
        messages = [dict(m) for m in row["messages"]]
        return {
            **row,
            "prompt": "\n".join(m["content"] for m in messages),
            "prompt_token_ids": None,
            "num_input_tokens": 100,  # the usage the loopback answers report
            "generated_tokens": [],
            "generated_text": answers.get(messages[-1]["content"], ""),
            "num_generated_tokens": 20,
            "embeddings": None,
            "metrics": None,
            "logprobs": None,
            "prompt_logprobs": None,
            "request_id": 7,
            "batch_uuid": "fixture-batch",
            "time_taken_llm": 0.5,
            "params": str(row["sampling_params"]),
            "__inference_error__": "",
        }

    return engine


def test_vllm_rows_carry_the_live_request_and_finish_as_live_extraction(api):
    live = extract(
        SEEDS, model=MODEL, base_url=api.url, mode="json_schema", cache=Cache(mode="off")
    )
    asks = [r.json for r in api.chat_requests()]
    api.requests.clear()
    settings = RaySettings(EndpointSettings(MODEL, base_url=api.url))  # the re-asks' endpoint

    rendered = ray.data.from_items([{"path": str(p)} for p in SEEDS]).map(
        _vllm_preprocess(settings)
    )
    rows = rendered.take_all()  # through Arrow, as Ray hands them to the engine stage
    first = {json.dumps(b["messages"], sort_keys=True): b for b in asks if len(b["messages"]) == 2}
    assert len(rows) == len(first) == len(SEEDS)
    for row in rows:
        messages = [dict(m) for m in row["messages"]]
        body = first[json.dumps(messages, sort_keys=True)]  # the very messages live extraction sent
        sampling = row["sampling_params"]
        assert (
            json.loads(sampling["structured_outputs"]["json"])
            == body["response_format"]["json_schema"]["schema"]
        )
        assert sampling["max_tokens"] is None  # to the context's end, as vLLM's server
        assert row["key"] == _renderer(settings).client.request_key(
            body
        )  # the same prompt, hash and key

    results = rendered.map(_engine(rows)).map(_vllm_postprocess(settings)).take_all()
    found = {
        row["article_id"]: ExtractionResult.model_validate_json(row["result"]) for row in results
    }
    assert found[SLOPPY].reasks == 1 and {r.status for r in found.values()} == {"ok"}
    reasks = [r.json for r in api.chat_requests()]
    assert reasks == [
        b for b in asks if len(b["messages"]) > 2
    ]  # the live re-ask, sent to the endpoint
    assert {r.article_id: _comparable(r) for r in live} == {
        k: _comparable(r) for k, r in found.items()
    }


def test_vllm_without_an_endpoint_fails_a_needed_reask_saying_why():
    settings = RaySettings(EndpointSettings(MODEL), extraction=ExtractionSettings(max_reasks=2))
    rows = [_vllm_preprocess(settings)({"path": str(p)}) for p in SEEDS[:2]]
    engine = _engine(rows)
    results = [
        ExtractionResult.model_validate_json(_vllm_postprocess(settings)(engine(r))["result"])
        for r in rows
    ]
    sloppy, careful = results
    assert (careful.status, careful.reasks) == ("ok", 0)
    assert (sloppy.article_id, sloppy.status, sloppy.failure) == (SLOPPY, "failed", "transport")
    assert "--base-url" in sloppy.error


def test_vllm_an_engine_error_and_an_unreadable_file_fail_alone(tmp_path):
    settings = RaySettings(EndpointSettings(MODEL))
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    unread = _vllm_preprocess(settings)({"path": str(empty)})
    row = _vllm_preprocess(settings)({"path": str(SEEDS[1])})
    engine = _engine([unread, row])
    assert unread["sampling_params"]["max_tokens"] == 1  # the engine takes every row: one token
    result = ExtractionResult.model_validate_json(
        _vllm_postprocess(settings)(engine(unread))["result"]
    )
    assert (result.article_id, result.failure) == ("empty", "input")

    failed = {
        **engine(row),
        "generated_text": "",
        "__inference_error__": "ValueError: prompt too long",
    }
    settled = _settle(settings)(failed)
    assert set(settled) == {"article_id", "status", "reasks", "result"}
    result = ExtractionResult.model_validate_json(settled["result"])
    assert (result.article_id, result.status, result.failure) == (
        SEEDS[1].stem,
        "failed",
        "transport",
    )
    assert "vLLM: ValueError: prompt too long" in result.error
    ok = _settle(settings)(_vllm_postprocess(settings)(engine(row)) | {"__inference_error__": ""})
    assert ExtractionResult.model_validate_json(ok["result"]).status == "ok"


@pytest.mark.skipif(
    importlib.util.find_spec("transformers") is not None, reason="Ray's LLM extra is installed"
)
def test_vllm_without_rays_llm_extra_says_what_to_install(tmp_path):
    settings = RaySettings(EndpointSettings(MODEL))
    with pytest.raises(ConfigError, match=r"ray\[llm\]"):
        extract_dataset(
            ray.data.from_items([{"path": str(SEEDS[0])}]),
            settings,
            engine=VLLMEngine("Qwen/Qwen3-8B"),
        )


def test_cli_engine_args_become_the_vllm_engine():
    options = _engine_options(
        "vllm",
        None,
        "Qwen/Qwen3-8B",
        ["max_model_len=16384", "dtype=bfloat16", "enforce_eager=true"],
        "H100",
        concurrency=4,
        qps=None,
        batch_size=None,
    )
    assert options == {
        "engine": VLLMEngine(
            "Qwen/Qwen3-8B",
            engine_kwargs={"max_model_len": 16384, "dtype": "bfloat16", "enforce_eager": True},
            replicas=4,
            accelerator_type="H100",
        )
    }


def test_vllm_an_answer_at_max_tokens_is_read_as_cut_off():
    settings = RaySettings(
        EndpointSettings(MODEL), ClientConfig(max_tokens=20), ExtractionSettings(max_reasks=0)
    )
    row = _vllm_preprocess(settings)({"path": str(SEEDS[1])})
    assert row["sampling_params"]["max_tokens"] == 20
    engine = _engine([row])  # reports 20 generated tokens
    result = ExtractionResult.model_validate_json(
        _vllm_postprocess(settings)(engine(row))["result"]
    )
    assert (result.status, result.failure) == ("failed", "truncated")

    roomy = RaySettings(EndpointSettings(MODEL), ClientConfig(max_tokens=21))
    row = _vllm_preprocess(roomy)({"path": str(SEEDS[1])})
    result = ExtractionResult.model_validate_json(_vllm_postprocess(roomy)(engine(row))["result"])
    assert result.status == "ok"
