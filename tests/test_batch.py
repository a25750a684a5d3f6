"""Batch runs, offline: the loopback server stands in for the chat, files and batches endpoints.

The stand-in model answers each seed article with the hand-written replies of
`fixture-careful` (or `fixture-sloppy`, whose first answer fails validation),
chosen by what the request carries, so a live run and a batch run of the same
articles get the same answers and must give the same results.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from loopback import LoopbackServer, RecordedRequest, Reply, completion
from typer.testing import CliRunner

from llm_extract.articles import load_article
from llm_extract.batch import (
    BATCH_URL,
    batch_status,
    collect,
    download,
    prepare,
    submit,
)
from llm_extract.cache import Cache
from llm_extract.cli import app
from llm_extract.client import ClientConfig
from llm_extract.errors import ConfigError
from llm_extract.extraction import extract, read_results
from llm_extract.settings import EndpointSettings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
REPLIES = ROOT / "evals" / "fixtures" / "replies"
SLOPPY = "000_5fadb3ca50ee0a75"
"""The seed whose first answer fails validation (fixture-sloppy's), so it needs a re-ask."""
MODEL = "fixture-batch"


def _replies() -> dict[str, list[Any]]:
    """Article text -> the answers in conversation order."""
    answers = {}
    for path in SEEDS:
        article = load_article(path)
        folder = "fixture-sloppy" if article.id == SLOPPY else "fixture-careful"
        script = json.loads((REPLIES / folder / f"{article.id}.json").read_text("utf-8"))
        answers[article.text] = script["replies"]
    return answers


def _evidence_texts(record: dict[str, Any]) -> list[str]:
    return [e["text"] for e in record.get("evidence") or []]


class StandIn:
    """An OpenAI-compatible model, files and batches API on the loopback server."""

    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = answers
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.fail_ids: set[str] = set()
        """custom_ids the stand-in's batch engine answers with an error."""
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # chat ------------------------------------------------------------------------------
    def chat(self, body: dict[str, Any]) -> Reply:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        replies = next(
            (
                replies
                for text, replies in self.answers.items()
                if any(p in user for p in text.split("\n") if len(p) > 80)
            ),
            None,
        )
        if replies is None:
            return Reply(400, {"error": {"message": "stand-in: unknown article"}})
        turn = (len(body["messages"]) - 2) // 2
        answer = replies[min(turn, len(replies) - 1)]
        if isinstance(answer, dict):  # a chunk sees only the records whose quotes it holds
            answer = {
                kind: [
                    r for r in answer.get(kind, []) if all(q in user for q in _evidence_texts(r))
                ]
                for kind in ("meetings", "positions")
            }
        return completion(content=json.dumps(answer, ensure_ascii=False), model=body["model"])

    # files and batches -----------------------------------------------------------------
    def __call__(self, request: RecordedRequest) -> Reply:
        path = request.path.removeprefix("/v1")
        if path == "/chat/completions":
            return self.chat(request.json)
        if path == "/files" and request.method == "POST":
            return self._upload(request)
        if match := re.fullmatch(r"/files/([\w-]+)/content", path):
            return Reply(200, self.files[match[1]], {"Content-Type": "application/octet-stream"})
        if path == "/batches" and request.method == "POST":
            return self._create(request.json)
        if match := re.fullmatch(r"/batches/([\w-]+)", path):
            return self._retrieve(match[1])
        return Reply(404, {"error": {"message": f"stand-in: no route {request.path}"}})

    def _upload(self, request: RecordedRequest) -> Reply:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        form = email.parser.BytesParser().parsebytes(head + request.body)
        parts = {p.get_param("name", header="content-disposition"): p for p in form.get_payload()}
        assert parts["purpose"].get_payload() == "batch"
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = parts["file"].get_payload(decode=True)
        name = parts["file"].get_filename()
        return Reply(200, self._file(file_id, name, "batch"))

    def _file(self, file_id: str, name: str, purpose: str) -> dict[str, Any]:
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(self.files[file_id]),
            "created_at": 0,
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    def _create(self, params: dict[str, Any]) -> Reply:
        assert params["endpoint"] == BATCH_URL and params["completion_window"] == "24h"
        output, errors = [], []
        lines = self.files[params["input_file_id"]].decode("utf-8").splitlines()
        for number, raw in enumerate(lines):
            line = json.loads(raw)
            assert line["method"] == "POST" and line["url"] == BATCH_URL
            reply = (
                Reply(400, {"error": {"message": "stand-in: refused"}})
                if line["custom_id"] in self.fail_ids
                else self.chat(line["body"])
            )
            item = {
                "id": f"batch_req_{number}",
                "custom_id": line["custom_id"],
                "response": {"status_code": reply.status, "request_id": f"req_{number}",
                             "body": reply.body},
                "error": None,
            }  # fmt: skip
            (output if reply.status == 200 else errors).append(item)
        batch_id = f"batch_{next(self._ids)}"
        files = {}
        for kind, items in (("output", output), ("error", errors)):
            if items:
                file_id = f"file-{next(self._ids)}"
                payload = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
                self.files[file_id] = payload.encode("utf-8")
                files[kind] = file_id
        self.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": BATCH_URL,
            "input_file_id": params["input_file_id"],
            "completion_window": "24h",
            "created_at": 0,
            "status": "validating",
            "metadata": params.get("metadata"),
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "_files": files,
            "_counts": {"total": len(lines), "completed": len(output), "failed": len(errors)},
        }
        return Reply(200, self._public(batch_id))

    def _retrieve(self, batch_id: str) -> Reply:
        batch = self.batches[batch_id]
        with self._lock:
            self.polls[batch_id] = self.polls.get(batch_id, 0) + 1
            if self.polls[batch_id] >= 2:  # in progress at the first look, done at the second
                batch["status"] = "completed"
                batch["request_counts"] = batch["_counts"]
                batch["output_file_id"] = batch["_files"].get("output")
                batch["error_file_id"] = batch["_files"].get("error")
            else:
                batch["status"] = "in_progress"
        return Reply(200, self._public(batch_id))

    def _public(self, batch_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.batches[batch_id].items() if not k.startswith("_")}


@pytest.fixture
def stand_in() -> StandIn:
    return StandIn(_replies())


@pytest.fixture
def api(stand_in: StandIn, monkeypatch: pytest.MonkeyPatch, secret: str):
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with LoopbackServer(stand_in) as server:
        yield server


def _comparable(result) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"latency_s"})


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def _chat(server: LoopbackServer) -> int:
    return len(server.chat_requests())


# --- prepare ----------------------------------------------------------------------------


def test_prepare_writes_the_request_live_extraction_sends(api, tmp_path):
    extract([SEEDS[1]], model=MODEL, base_url=api.url, mode="json_schema", cache=Cache(mode="off"))
    sent = api.chat_requests()[0].json
    summary = prepare([SEEDS[1]], out=tmp_path / "requests.jsonl", model=MODEL)
    [line] = _lines(tmp_path / "requests.jsonl")
    assert summary.files == [tmp_path / "requests.jsonl"]
    assert (summary.articles, summary.requests) == (1, 1)
    assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
    assert line["custom_id"].startswith(f"{SEEDS[1].stem}@")
    assert line["body"] == sent
    response_format = line["body"]["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "ArticleExtraction"
    assert "meetings" in response_format["json_schema"]["schema"]["properties"]
    assert "tools" not in line["body"]


def test_body_model_names_the_served_model_and_keeps_the_key(tmp_path):
    prepare([SEEDS[0]], out=tmp_path / "a.jsonl", model=MODEL)
    prepare([SEEDS[0]], out=tmp_path / "b.jsonl", model=MODEL, body_model="Qwen/Qwen3-8B")
    [a], [b] = _lines(tmp_path / "a.jsonl"), _lines(tmp_path / "b.jsonl")
    assert a["body"]["model"] == MODEL
    assert b["body"]["model"] == "Qwen/Qwen3-8B"
    assert a["custom_id"] == b["custom_id"]
    assert {**b["body"], "model": MODEL} == a["body"]


def test_prepare_splits_files_at_the_limits(tmp_path):
    out = tmp_path / "requests.jsonl"
    (tmp_path / "requests.part9.jsonl").write_text("left by an older run\n")
    summary = prepare(SEEDS, out=out, model=MODEL, max_requests=2)
    assert summary.files == [
        out,
        tmp_path / "requests.part2.jsonl",
        tmp_path / "requests.part3.jsonl",
    ]
    assert [len(_lines(p)) for p in summary.files] == [2, 2, 1]
    assert not (tmp_path / "requests.part9.jsonl").exists()
    ids = [line["custom_id"].split("@")[0] for p in summary.files for line in _lines(p)]
    assert ids == [p.stem for p in SEEDS]

    biggest = max(len(line) for line in out.read_bytes().splitlines(keepends=True))
    limit = biggest * 2 + 1
    summary = prepare(SEEDS, out=out, model=MODEL, max_bytes=limit)
    assert all(p.stat().st_size <= limit for p in summary.files)
    assert sum(len(_lines(p)) for p in summary.files) == len(SEEDS)
    assert not (tmp_path / "requests.part4.jsonl").exists()

    summary = prepare(SEEDS[:1], out=tmp_path / "tiny.jsonl", model=MODEL, max_bytes=1000)
    assert summary.files == [] and "do not fit in one batch file" in summary.skipped[0][1]


def test_prepare_leaves_out_bad_articles_and_goes_on(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    copy = tmp_path / "copy" / f"{SEEDS[0].stem}.txt"
    copy.parent.mkdir()
    copy.write_text(SEEDS[0].read_text("utf-8"), "utf-8")
    summary = prepare([empty, *SEEDS[:2], copy], out=tmp_path / "r.jsonl", model=MODEL)
    assert summary.articles == 2
    assert [source for source, _ in summary.skipped] == [str(empty), str(copy)]
    assert "rename one" in summary.skipped[1][1]
    assert len(_lines(tmp_path / "r.jsonl")) == 2


def test_a_long_article_is_one_line_per_chunk(tmp_path):
    summary = prepare([SEEDS[1]], out=tmp_path / "r.jsonl", model=MODEL, chunk_chars=2000)
    ids = [line["custom_id"] for line in _lines(tmp_path / "r.jsonl")]
    assert summary.requests == len(ids) > 1
    assert [i.split("@")[0] for i in ids] == [
        f"{SEEDS[1].stem}#{n}/{len(ids)}" for n in range(1, len(ids) + 1)
    ]


# --- the OpenAI Batch API on the stand-in -----------------------------------------------


def test_batch_run_gives_the_results_of_live_extraction(api, stand_in, tmp_path, secret):
    live = extract(
        SEEDS, model=MODEL, base_url=api.url, mode="json_schema", cache=Cache(mode="off")
    )
    assert [r.status for r in live] == ["ok"] * len(SEEDS)
    assert next(r for r in live if r.article_id == SLOPPY).reasks == 1

    files = prepare(SEEDS, out=tmp_path / "requests.jsonl", model=MODEL, max_requests=3).files
    jobs = submit(files, endpoint=EndpointSettings.from_env(base_url=api.url))
    assert [j.status for j in jobs] == ["validating", "validating"]
    with pytest.raises(ConfigError, match=r"is in_progress .* wait"):
        download(
            jobs[0].id, folder=tmp_path, endpoint=EndpointSettings.from_env(base_url=api.url)
        )  # the stand-in's first look
    looks = batch_status([j.id for j in jobs], endpoint=EndpointSettings.from_env(base_url=api.url))
    assert [(j.status, j.completed, j.total) for j in looks] == [
        ("completed", 3, 3),
        ("in_progress", 0, 2),
    ]
    saved = [
        p
        for j in jobs
        for p in download(
            j.id, folder=tmp_path, endpoint=EndpointSettings.from_env(base_url=api.url)
        )
    ]
    assert [p.name for p in saved] == [f"{jobs[0].id}.output.jsonl", f"{jobs[1].id}.output.jsonl"]

    before = _chat(api)
    summary = collect(saved, SEEDS, out=tmp_path / "results.jsonl", model=MODEL, base_url=api.url)
    assert _chat(api) - before == 1  # the one re-ask, live
    assert (summary.ok, summary.failed, summary.reasked, summary.lines) == (5, 0, 1, 5)
    batch = {r.article_id: r for r in read_results(tmp_path / "results.jsonl")}
    assert {r.article_id: _comparable(r) for r in live} == {
        k: _comparable(r) for k, r in batch.items()
    }
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text("utf-8", errors="replace"), path


def test_lines_the_batch_engine_failed_are_kept_with_the_reason(api, stand_in, tmp_path):
    files = prepare(SEEDS[:3], out=tmp_path / "requests.jsonl", model=MODEL).files
    refused = _lines(files[0])[1]["custom_id"]
    stand_in.fail_ids.add(refused)
    [job] = submit(files, endpoint=EndpointSettings.from_env(base_url=api.url))
    batch_status([job.id], endpoint=EndpointSettings.from_env(base_url=api.url))
    saved = download(job.id, folder=tmp_path, endpoint=EndpointSettings.from_env(base_url=api.url))
    assert [p.name.split(".", 1)[1] for p in saved] == ["output.jsonl", "errors.jsonl"]
    summary = collect(saved, SEEDS[:3], out=tmp_path / "out.jsonl", model=MODEL, base_url=api.url)
    assert (summary.ok, summary.failed, summary.batch_errors) == (2, 1, 1)
    failed = next(r for r in read_results(tmp_path / "out.jsonl") if r.status == "failed")
    assert failed.article_id == refused.split("@")[0]
    assert "the batch request failed" in failed.error and "stand-in: refused" in failed.error
    assert failed.failure == "transport"


def test_cli_prepare_submit_status_collect(api, tmp_path):
    runner = CliRunner()
    requests = tmp_path / "requests.jsonl"
    ran = runner.invoke(
        app, ["batch", "prepare", *map(str, SEEDS[2:4]), "-m", MODEL, "-o", str(requests)]
    )
    assert ran.exit_code == 0, ran.output
    assert "2 requests for 2 articles" in ran.output
    ran = runner.invoke(app, ["batch", "submit", str(requests), "--base-url", api.url, "--json"])
    assert ran.exit_code == 0, ran.output
    [job] = json.loads(ran.output)
    ran = runner.invoke(app, ["batch", "status", job["id"], "--base-url", api.url])
    assert ran.exit_code == 0 and "in_progress" in ran.output
    results = tmp_path / "results.jsonl"
    args = ["batch", "collect", *map(str, SEEDS[2:4]), "-m", MODEL, "-o", str(results),
            "--batch", job["id"], "--base-url", api.url, "--no-log"]  # fmt: skip
    ran = runner.invoke(app, args)
    assert ran.exit_code == 0, ran.output
    assert "2 ok, 0 failed" in ran.output
    assert [r.status for r in read_results(results)] == ["ok", "ok"]


def test_status_prints_batch_errors_as_data_not_markup(api, stand_in, tmp_path):
    runner = CliRunner()
    requests = tmp_path / "requests.jsonl"
    prepare(SEEDS[2:3], out=requests, model=MODEL)
    [job] = submit([requests], endpoint=EndpointSettings.from_env(base_url=api.url))
    message = "bad [/b] line [type=literal_error, input_value='x'] [redacted]"
    stand_in.batches[job.id]["errors"] = {"object": "list", "data": [{"message": message}]}
    ran = runner.invoke(app, ["batch", "status", job.id, "--base-url", api.url],
                        env={"COLUMNS": "400"})  # fmt: skip
    assert ran.exit_code == 0, ran.exception
    assert message in ran.output


def test_collect_into_a_folder_is_a_config_error(tmp_path):
    responses = tmp_path / "output.jsonl"
    responses.write_text("")
    with pytest.raises(ConfigError, match="is a folder"):
        collect([responses], SEEDS[:1], out=tmp_path, model=MODEL)


# --- a vLLM run_batch output file -------------------------------------------------------


def _vllm_output(requests: Path, stand_in: StandIn, out: Path, *, refuse: str = "") -> Path:
    """What vLLM's run_batch writes: one line per request, errors in the same file."""
    with out.open("w", encoding="utf-8") as fh:
        for number, line in enumerate(_lines(requests)):
            if line["custom_id"].startswith(refuse or "\0"):
                item = {"id": f"vllm-{number}", "custom_id": line["custom_id"],
                        "response": {"status_code": 400, "request_id": f"vllm-batch-{number}"},
                        "error": "stand-in: context length exceeded"}  # fmt: skip
            else:
                body = stand_in.chat(line["body"]).body
                item = {"id": f"vllm-{number}", "custom_id": line["custom_id"],
                        "response": {"status_code": 200, "request_id": f"vllm-batch-{number}",
                                     "body": body},
                        "error": None}  # fmt: skip
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
        fh.write("this line is not JSON\n")
    return out


def test_vllm_output_without_an_endpoint_records_invalid_answers(stand_in, tmp_path, caplog):
    requests = prepare(SEEDS, out=tmp_path / "r.jsonl", model=MODEL, body_model="served").files[0]
    output = _vllm_output(requests, stand_in, tmp_path / "fixture-vllm-output.jsonl",
                          refuse=SEEDS[4].stem)  # fmt: skip
    summary = collect([output], SEEDS, out=tmp_path / "results.jsonl", model=MODEL)
    assert "not re-asked" in caplog.text
    assert (summary.lines, summary.ok, summary.failed, summary.batch_errors) == (6, 3, 2, 1)
    assert summary.skipped == 1 and "not JSON" in summary.problems[0]
    results = {r.article_id: r for r in read_results(tmp_path / "results.jsonl")}
    assert results[SLOPPY].status == "failed"
    assert "failed validation" in results[SLOPPY].error and results[SLOPPY].reasks == 0
    assert "context length exceeded" in results[SEEDS[4].stem].error
    assert all(r.mode == "json_schema" and r.model == MODEL for r in results.values())


def test_vllm_output_with_an_endpoint_re_asks_live_and_resumes(api, stand_in, tmp_path):
    requests = prepare(SEEDS, out=tmp_path / "r.jsonl", model=MODEL).files[0]
    output = _vllm_output(requests, stand_in, tmp_path / "fixture-vllm-output.jsonl")
    out = tmp_path / "results.jsonl"
    summary = collect([output], SEEDS, out=out, model=MODEL, base_url=api.url)
    assert (summary.ok, summary.reasked, _chat(api)) == (5, 1, 1)
    again = collect([output], SEEDS, out=out, model=MODEL, base_url=api.url)
    assert (again.done_before, again.ok, _chat(api)) == (5, 0, 1)
    assert len(read_results(out)) == 5


def test_chunks_arrive_in_any_order_and_a_missing_one_fails_the_article(api, stand_in, tmp_path):
    live = extract([SEEDS[1]], model=MODEL, base_url=api.url, mode="json_schema",
                   cache=Cache(mode="off"), chunk_chars=2000)[0]  # fmt: skip
    requests = prepare(SEEDS[:2], out=tmp_path / "r.jsonl", model=MODEL, chunk_chars=2000).files[0]
    output = _vllm_output(requests, stand_in, tmp_path / "fixture-vllm-output.jsonl")
    lines = output.read_text("utf-8").splitlines()[:-1]
    chunked = [x for x in lines if f"{SEEDS[1].stem}#" in x]
    short = [x for x in lines if f"{SEEDS[0].stem}#" in x][1:]  # the first chunk is lost
    output.write_text("\n".join([*reversed(chunked), *short]) + "\n", "utf-8")
    summary = collect([output], SEEDS[:2], out=tmp_path / "out.jsonl", model=MODEL,
                      base_url=api.url, chunk_chars=2000)  # fmt: skip
    results = {r.article_id: r for r in read_results(tmp_path / "out.jsonl")}
    assert _comparable(results[SEEDS[1].stem]) == _comparable(live)
    assert results[SEEDS[0].stem].status == "failed"
    assert f"only {len(short)} of {len(short) + 1} chunk answers" in results[SEEDS[0].stem].error
    assert summary.ok == 1


def test_an_answer_to_a_changed_request_is_refused(stand_in, tmp_path):
    article = tmp_path / "articles" / f"{SEEDS[3].stem}.txt"
    article.parent.mkdir()
    article.write_text(SEEDS[3].read_text("utf-8"), "utf-8")
    requests = prepare([article], out=tmp_path / "r.jsonl", model=MODEL).files[0]
    output = _vllm_output(requests, stand_in, tmp_path / "fixture-vllm-output.jsonl")
    article.write_text(SEEDS[3].read_text("utf-8") + "\nДобавлено после prepare.", "utf-8")
    summary = collect([output], [article.parent], out=tmp_path / "out.jsonl", model=MODEL)
    [result] = read_results(tmp_path / "out.jsonl")
    assert summary.failed == 1 and "differs from what this run would send" in result.error
    assert result.failure == "config"


def test_collect_reports_lines_of_unknown_articles_and_missing_answers(stand_in, tmp_path):
    requests = prepare(SEEDS[:2], out=tmp_path / "r.jsonl", model=MODEL).files[0]
    output = _vllm_output(requests, stand_in, tmp_path / "fixture-vllm-output.jsonl")
    summary = collect([output], [SEEDS[1], SEEDS[2]], out=tmp_path / "out.jsonl", model=MODEL)
    assert summary.ok == 1 and summary.missing == 1
    assert any(f"no article {SEEDS[0].stem!r}" in p for p in summary.problems)
    with pytest.raises(ConfigError, match="holds results of"):
        collect([output], SEEDS[:2], out=tmp_path / "out.jsonl", model="fixture-other")
    out = tmp_path / "out.jsonl"
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    out.write_text("".join(json.dumps(line | {"schema_hash": "0ld"}) + "\n" for line in lines))
    with pytest.raises(ConfigError, match="schema hash 0ld, this run's is"):
        collect([output], SEEDS[:2], out=out, model=MODEL)


def test_a_refused_key_stops_collect(stand_in, tmp_path, monkeypatch):
    requests = prepare([SEEDS[0]], out=tmp_path / "r.jsonl", model=MODEL).files[0]
    output = _vllm_output(requests, stand_in, tmp_path / "fixture-vllm-output.jsonl")
    refusing = LoopbackServer(lambda _r: Reply(401, {"error": {"message": "bad key"}}))
    with refusing as server, pytest.raises(ConfigError, match="refused the API key"):
        collect([output], [SEEDS[0]], out=tmp_path / "out.jsonl", model=MODEL,
                base_url=server.url, config=ClientConfig(retries=0))  # fmt: skip


def test_prepared_requests_are_strict_and_carry_no_default_temperature(tmp_path):
    prepare([SEEDS[1]], out=tmp_path / "requests.jsonl", model=MODEL)
    [line] = _lines(tmp_path / "requests.jsonl")
    assert line["body"]["response_format"]["json_schema"]["strict"] is True
    assert "temperature" not in line["body"]


def test_collect_again_redoes_an_article_edited_since_its_result(stand_in, tmp_path):
    """The resume rule of `extract`: an article whose text changed is not done. Its old
    answer was for the old text, so the redo says to prepare again, in its place."""
    sources = []
    for seed in SEEDS[1:3]:
        copy = tmp_path / seed.name
        copy.write_bytes(seed.read_bytes())
        sources.append(copy)
    requests = prepare(sources, out=tmp_path / "r.jsonl", model=MODEL).files[0]
    output = _vllm_output(requests, stand_in, tmp_path / "fixture-vllm-output.jsonl")
    out = tmp_path / "out.jsonl"
    assert collect([output], sources, out=out, model=MODEL).ok == 2
    assert collect([output], sources, out=out, model=MODEL).done_before == 2

    sources[0].write_text(sources[0].read_text("utf-8") + "\nДополнено.", "utf-8")
    summary = collect([output], sources, out=out, model=MODEL)
    assert (summary.done_before, summary.failed) == (1, 1)
    results = {r.article_id: r for r in read_results(out)}
    assert len(results) == 2 == len(out.read_text("utf-8").splitlines())
    edited = results[sources[0].stem]
    assert edited.failure == "config" and "prepare and run the batch again" in edited.error
    assert results[sources[1].stem].status == "ok"
