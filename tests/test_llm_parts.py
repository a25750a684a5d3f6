"""The parts `Client` is assembled from, each on its own (llm_extract.llm, callstore)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from answers import VALID
from loopback import Reply, completion

import llm_extract
from llm_extract.batch import _BatchAnswers
from llm_extract.cache import Cache, CallLog, CallStore, DbCache, FolderCache
from llm_extract.client import CallStats, Client, ClientConfig
from llm_extract.llm.endpoints import connect
from llm_extract.llm.modes import render_request
from llm_extract.llm.transport import HTTPStatusError, Transport
from llm_extract.settings import EndpointSettings

SYSTEM = "Extract meetings."
TURNS = [{"role": "user", "content": "Статья."}]
PACKAGE = Path(llm_extract.__file__).parent


def test_a_status_error_keeps_its_code_and_body(server, secret):
    body = {"error": {"message": "no such thing", "code": "nope"}}
    server.script(Reply(422, body))
    config = ClientConfig.from_env()
    endpoint = connect(
        EndpointSettings.from_env("fixture-loopback", base_url=server.url, api_key=secret),
        timeout=config.timeout,
    )
    transport = Transport(endpoint, config, None)

    async def post() -> None:
        try:
            await transport.post(b'{"model":"m","messages":[]}', CallStats())
        finally:
            await transport.aclose()

    with pytest.raises(HTTPStatusError) as caught:
        asyncio.run(post())
    assert (caught.value.status, json.loads(caught.value.body), caught.value.tries) == (
        422,
        body,
        1,
    )
    assert caught.value.message == "no such thing" and transport.answered


def test_a_request_renders_without_a_client_as_the_client_sends_it(server, secret):
    config = ClientConfig.from_env(temperature=0.2, max_tokens=500)
    for mode in ("tools", "json_schema", "json", "md_json"):
        client = Client(
            EndpointSettings.from_env(
                "fixture-loopback", base_url=server.url, api_key=secret, mode=mode
            ),
            config,
        )
        rendered = render_request(
            SYSTEM, TURNS, model_name="fixture-loopback", mode=mode, config=config
        )
        assert rendered == client.request(SYSTEM, TURNS), mode


def test_each_completion_names_the_mode_it_was_answered_in(server, secret):
    """After a fallback the run's mode moves on; the completion keeps its own."""
    server.script(
        Reply(400, {"error": {"message": "tool_choice is not supported by this server"}}),
        completion(content=json.dumps(VALID)),
    )
    client = Client(
        EndpointSettings.from_env("fixture-loopback", base_url=server.url, api_key=secret)
    )
    before = client.mode

    async def run():
        try:
            return await client.complete(SYSTEM, TURNS, stats=CallStats(), max_reasks=0)
        finally:
            await client.aclose()

    done = asyncio.run(run())
    assert (before, done.mode, client.mode) == ("tools", "json_schema", "json_schema")


def test_a_cache_and_a_call_log_on_one_file_share_one_connection(tmp_path):
    db = tmp_path / "logs.db"
    cache, log = Cache(db), CallLog(db)
    assert isinstance(cache, DbCache) and isinstance(Cache(tmp_path / "c"), FolderCache)
    assert CallLog is CallStore and cache.log is not None
    assert cache.log._db is log._db and cache.logged_by(log)
    assert not Cache(tmp_path / "other.db").logged_by(log)
    log.close()
    cache.log.record(model="m", mode="tools", status="ok")  # still open for the cache
    assert len(CallStore(db).rows()) == 1


def test_batch_answers_are_a_store_of_their_own_and_open_no_database(tmp_path):
    answers = _BatchAnswers(None, live=True)
    assert not isinstance(answers, Cache)
    answers.add("k", {"choices": []})
    assert answers.lookup("m", "k")["spent"] and answers.lookup("m", "other") is None
    assert not answers.records and not (tmp_path / "llm-extract-home" / "logs.db").exists()
    inner = Cache(tmp_path / "c")
    assert _BatchAnswers(inner, live=True).threaded and _BatchAnswers(inner, live=True).records


def test_only_the_adapter_imports_instructor():
    """An instructor upgrade touches one file."""
    importing = re.compile(r"^\s*(from|import) instructor\b", re.MULTILINE)
    found = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if importing.search(path.read_text("utf-8"))
    ]
    assert found == ["llm/instructor_adapter.py"]
