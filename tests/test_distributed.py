"""The Ray Data pipeline on a local Ray (2 CPUs) against the loopback stand-in of test_batch.

The stand-in answers each seed with `fixture-careful`'s replies (`fixture-sloppy`'s
for the seed whose first answer fails validation), so the Ray run must give the
results live extraction gives, having sent the very same request bodies.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip(
    "ray.data.llm", reason="Ray Data is not installed: pip install -e '.[dev,ray]' runs these"
)

import ray
from loopback import LoopbackServer
from test_batch import MODEL, SEEDS, SLOPPY, StandIn, _comparable, _replies
from typer.testing import CliRunner

from llm_extract.cache import Cache
from llm_extract.cli import app
from llm_extract.distributed import RaySettings, extract_dataset, extract_to_file
from llm_extract.extraction import extract, read_results


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
    settings = RaySettings(model=MODEL, base_url=api.url, api_key=secret)
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
    settings = RaySettings(model=MODEL, base_url=api.url, max_reasks=0)
    rows = extract_dataset(ray.data.from_items([{"path": str(SEEDS[0])}]), settings).take_all()
    [row] = rows
    assert (row["article_id"], row["status"], row["reasks"]) == (SLOPPY, "failed", 0)
    assert "failed validation" in json.loads(row["result"])["error"]
    assert len(api.chat_requests()) == 1


def test_a_rerun_skips_finished_articles_and_a_bad_file_fails_alone(api, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    settings = RaySettings(model=MODEL, base_url=api.url)
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
