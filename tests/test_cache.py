"""Record/replay and the call log, alone and under the client."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from answers import INVALID, VALID, answer, article_of
from loopback import completion
from typer.testing import CliRunner

from llm_extract.cache import (
    Cache,
    CacheMiss,
    CallLog,
    SharedMessages,
    cache_key,
    encode_messages,
    endpoint_identity,
    params_digest,
)
from llm_extract.cli import app
from llm_extract.client import CallStats, Client, ClientConfig
from llm_extract.errors import ConfigError
from llm_extract.schemas import PromptInfo
from llm_extract.settings import EndpointSettings

SEED = "seeds/000_5fadb3ca50ee0a75.txt"
SYSTEM = "Extract meetings."
TURNS = [{"role": "user", "content": "Статья."}]


def ask(client: Client, stats: CallStats | None = None) -> CallStats:
    stats = stats or CallStats(article_id="a", prompt=PromptInfo(name="extract", hash="abc"))

    async def run() -> None:
        try:
            await client.complete(SYSTEM, TURNS, stats=stats, max_reasks=2)
        finally:
            await client.aclose()

    asyncio.run(run())
    return stats


def client_for(server, secret, cache: Cache | None, log: CallLog | None = None, **kw) -> Client:
    return Client(
        EndpointSettings.from_env("fixture-loopback", base_url=server.url, api_key=secret),
        ClientConfig.from_env(),
        cache=cache,
        call_log=log,
        **kw,
    )


def test_key_covers_model_mode_messages_and_params():
    messages = [{"role": "user", "content": "x"}]
    params = params_digest({"tools": [{"name": "A"}], "temperature": 0})
    key = cache_key(model="m", mode="tools", messages=messages, params=params)
    assert key == cache_key(model="m", mode="tools", messages=list(messages), params=params)
    assert len(key) == 32
    others = [
        cache_key(model="n", mode="tools", messages=messages, params=params),
        cache_key(model="m", mode="json", messages=messages, params=params),
        cache_key(
            model="m", mode="tools", messages=[{"role": "user", "content": "y"}], params=params
        ),
        cache_key(
            model="m", mode="tools", messages=messages, params=params_digest({"temperature": 1})
        ),
    ]
    assert key not in others and len(set(others)) == 4


def _key(model: str, base_url: str | None, **options) -> str:
    client = Client(
        EndpointSettings.from_env(model, base_url=base_url, api_key="sk-test-key"), **options
    )
    return client.request_key(client.request("Extract.", [{"role": "user", "content": "Статья."}]))


def test_a_plain_model_name_on_two_servers_has_two_keys():
    ollama = _key("llama3", "http://127.0.0.1:11434/v1")
    assert ollama != _key("llama3", "http://127.0.0.1:8000/v1")  # vLLM
    assert ollama != _key("llama3", "http://gpu:11434/v1")
    assert ollama != _key("llama3", "http://127.0.0.1:11434/api/v1")
    # credentials, query, a trailing slash, case and a spelt-out default port never count
    assert ollama == _key(
        "llama3", "HTTP://user:pw-long-enough@127.0.0.1:11434/v1/?token=sk-test-x#f"
    )
    assert _key("llama3", "http://h/v1") == _key("llama3", "http://h:80/v1")


def test_provider_fixture_and_batch_keys_do_not_depend_on_the_endpoint():
    for model in ("ollama/llama3", "fixture-careful"):
        assert _key(model, "http://127.0.0.1:1/v1") == _key(model, "http://127.0.0.1:2/v1")
    batch = [_key("llama3", url, keyed_by_endpoint=False) for url in ("http://a/v1", "http://b/v1")]
    assert batch[0] == batch[1]


def test_endpoint_identity_drops_credentials_and_query():
    assert endpoint_identity("https://u:secret@Api.Example.com/v1/?key=sk-test-q") == (
        "https://api.example.com:443/v1"
    )


def test_params_digest_ignores_key_order():
    assert params_digest({"a": 1, "b": [1, 2]}) == params_digest({"b": [1, 2], "a": 1})


def test_store_then_lookup(tmp_path):
    cache = Cache(tmp_path / "c")
    path = cache.store(
        key="k1", model="openai/gpt-x", mode="tools", messages=[{"role": "user", "content": "Привет"}],
        params={"temperature": 0}, response={"choices": [{"index": 0}]}, latency_s=0.1234,
    )  # fmt: skip
    assert path == tmp_path / "c" / "openai--gpt-x" / "k1.json"
    text = path.read_text("utf-8")
    assert "Привет" in text and text.endswith("\n")  # readable, diffable
    entry = cache.lookup("openai/gpt-x", "k1")
    assert entry["response"] == {"choices": [{"index": 0}]} and entry["latency_s"] == 0.123
    assert (cache.hits, cache.misses, cache.writes) == (1, 0, 1)
    assert cache.lookup("openai/gpt-x", "other") is None and cache.misses == 1


def test_shared_messages_are_stored_once_and_keys_do_not_change(tmp_path):
    system = [{"role": "system", "content": "Длинная инструкция. " * 50}]
    cache = Cache(tmp_path)
    shared = SharedMessages.of(system)
    for number in range(3):
        messages = [*system, {"role": "user", "content": f"Статья {number}."}]
        rest = encode_messages(messages[1:])
        assert shared.join(rest) == encode_messages(messages)
        key = cache_key(model="m", mode="tools", messages=shared.join(rest), params="p")
        assert key == cache_key(model="m", mode="tools", messages=messages, params="p")
        cache.store(key=key, model="m", mode="tools", messages=messages, params={},
                    response={"n": number}, shared=shared)  # fmt: skip
        entry = cache.lookup("m", key)
        assert entry["request"] == {"params": {}, "shared": shared.digest,
                                    "messages": messages[1:]}  # fmt: skip
        assert cache.messages(entry) == messages
    assert [p.name for p in tmp_path.glob("prompts/*")] == [f"{shared.digest}.json"]
    assert SharedMessages.of([]).join(rest) == rest and shared.join("[]") == shared.encoded


def test_first_format_entries_still_replay(tmp_path):
    """A /1 entry (whole conversation inline) under the same key, as recorded before /2."""
    (tmp_path / "m").mkdir()
    old = {"format": "llm-extract-cache/1", "key": "k", "model": "m", "mode": "tools",
           "request": {"params": {}, "messages": TURNS}, "response": {"choices": []}}  # fmt: skip
    (tmp_path / "m" / "k.json").write_text(json.dumps(old), "utf-8")
    entry = Cache(tmp_path, mode="replay-only").lookup("m", "k")
    assert entry["response"] == {"choices": []} and Cache(tmp_path).messages(entry) == TURNS


def test_key_of_a_known_request_is_stable():
    """Keys address recorded answers: a format change must not move them."""
    key = cache_key(model="m", mode="tools", messages=TURNS, params=params_digest({}))
    assert key == "8d51ddc3377afa929ed94c84488e35b9"  # as computed by the /1 code


def test_replay_only_miss_is_an_error(tmp_path):
    with pytest.raises(CacheMiss, match="replay-only"):
        Cache(tmp_path, mode="replay-only").lookup("m", "nothing")


def test_off_neither_reads_nor_writes(tmp_path):
    Cache(tmp_path).store(key="k", model="m", mode="tools", messages=[], params={}, response={})
    off = Cache(tmp_path, mode="off")
    assert off.lookup("m", "k") is None
    assert off.store(key="k2", model="m", mode="tools", messages=[], params={}, response={}) is None
    assert not (tmp_path / "m" / "k2.json").exists()


def test_unknown_mode_and_broken_entry_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="choose from use, refresh, off, replay-only"):
        Cache(tmp_path, mode="sometimes")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "k.json").write_text("{not json", "utf-8")
    with pytest.raises(ConfigError, match="delete it"):
        Cache(tmp_path).lookup("m", "k")


def test_a_hit_makes_no_call(server, secret, tmp_path):
    server.script(completion(tool=VALID, usage=(100, 20)))
    first = ask(client_for(server, secret, Cache(tmp_path)))
    second = ask(client_for(server, secret, Cache(tmp_path)))
    assert len(server.chat_requests()) == 1
    assert (second.requests, second.cached, second.attempts) == (1, 1, 1)
    assert (first.input_tokens, first.output_tokens) == (100, 20)
    assert (second.input_tokens, second.output_tokens) == (0, 0)  # nothing spent on a replay
    assert (second.replayed_input_tokens, second.replayed_output_tokens) == (100, 20)
    assert second.usage.replayed_input_tokens == 100 and second.usage.total_tokens == 0
    (entry_path,) = tmp_path.glob("fixture-loopback/*.json")
    entry = json.loads(entry_path.read_text("utf-8"))
    assert entry["model"] == "fixture-loopback" and entry["mode"] == "tools"
    assert entry["request"]["messages"] == TURNS  # the system message is stored once, shared
    assert Cache(tmp_path).messages(entry) == [{"role": "system", "content": SYSTEM}, *TURNS]
    assert entry["request"]["params"] == {}  # temperature is sent only when set
    assert entry["response"]["usage"]["prompt_tokens"] == 100


def test_refresh_calls_again_and_rerecords(server, secret, tmp_path):
    server.script(completion(tool=VALID, usage=(100, 20)), completion(tool=VALID, usage=(111, 22)))
    ask(client_for(server, secret, Cache(tmp_path)))
    refreshed = ask(client_for(server, secret, Cache(tmp_path, mode="refresh")))
    assert len(server.chat_requests()) == 2 and refreshed.cached == 0
    (entry_path,) = tmp_path.glob("fixture-loopback/*.json")
    assert json.loads(entry_path.read_text("utf-8"))["response"]["usage"]["prompt_tokens"] == 111


def test_replay_only_replays_a_conversation_with_a_reask_offline(server, secret, tmp_path):
    server.script(completion(tool=INVALID), completion(tool=VALID))
    recorded = ask(client_for(server, secret, Cache(tmp_path)))
    assert recorded.reasks == 1 and len(list(tmp_path.glob("fixture-loopback/*.json"))) == 2
    (shared,) = tmp_path.glob("prompts/*.json")  # both entries start with the same system message
    assert json.loads(shared.read_text("utf-8")) == [{"role": "system", "content": SYSTEM}]
    server.stop()
    replayed = ask(client_for(server, secret, Cache(tmp_path, mode="replay-only")))
    assert (replayed.requests, replayed.reasks, replayed.cached) == (2, 1, 2)


def test_replay_only_miss_fails_the_call(server, secret, tmp_path):
    with pytest.raises(CacheMiss, match="no recorded answer"):
        ask(client_for(server, secret, Cache(tmp_path, mode="replay-only")))
    assert server.chat_requests() == []


def test_fixture_model_without_endpoint_answers_only_from_the_cache(tmp_path):
    client = Client("fixture-careful", ClientConfig.from_env(), cache=Cache(tmp_path))
    with pytest.raises(CacheMiss, match="hand-written fixture model"):
        ask(client)


def test_call_log_records_live_cached_and_failed_calls(server, secret, tmp_path):
    log = CallLog(tmp_path / "logs.db")
    server.script(completion(tool=VALID, usage=(7, 3)))
    ask(client_for(server, secret, Cache(tmp_path / "c"), log))
    ask(client_for(server, secret, Cache(tmp_path / "c"), log))
    with pytest.raises(CacheMiss):
        ask(client_for(server, secret, Cache(tmp_path / "empty", mode="replay-only"), log))
    live, cached, failed = log.rows()
    assert (live["status"], live["cached"], live["input_tokens"], live["attempts"]) == (
        "ok",
        0,
        7,
        1,
    )
    assert (cached["status"], cached["cached"]) == ("ok", 1)
    assert failed["status"] == "error" and "replay-only" in failed["error"]
    assert live["article_id"] == "a" and live["prompt_hash"] == "abc"
    assert json.loads(live["messages"]) == [{"role": "system", "content": SYSTEM}, *TURNS]
    assert live["shared"] == cached["shared"] is not None  # the system message, logged once
    assert log._db.execute("SELECT count(*) FROM prompts").fetchone() == (1,)
    assert log.rows(cached=1) == [cached]
    with pytest.raises(ValueError, match="no such log column"):
        log.rows(**{"1=1 OR id": 1})


def test_call_log_reopens_without_migrating_twice(tmp_path):
    CallLog(tmp_path / "logs.db").record(model="m", mode="tools", status="ok")
    reopened = CallLog(tmp_path / "logs.db")
    assert len(reopened.rows()) == 1


def test_the_key_never_reaches_cache_or_log(server, secret, tmp_path):
    log = CallLog(tmp_path / "logs.db")
    server.script(
        completion(tool=INVALID),
        completion(tool=VALID),
    )
    ask(client_for(server, secret, Cache(tmp_path / "cache"), log))
    log.close()
    assert server.chat_requests()[0].headers["authorization"] == f"Bearer {secret}"
    written = [p for p in Path(tmp_path).rglob("*") if p.is_file()]
    assert len(written) >= 3
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
        assert b"authorization" not in path.read_bytes().lower(), path


def test_a_db_cache_and_the_call_log_are_one_store(server, secret, tmp_path):
    db = tmp_path / "logs.db"
    server.script(completion(tool=INVALID), completion(tool=VALID, usage=(7, 3)))
    recorded = ask(client_for(server, secret, Cache(db), CallLog(db)))
    assert recorded.reasks == 1
    assert {p.name.split("-")[0] for p in tmp_path.iterdir()} == {"logs.db"}  # + -wal, -shm
    rows = CallLog(db).rows()
    assert [(r["status"], r["cached"]) for r in rows] == [("ok", 0), ("ok", 0)]  # one row a call
    server.stop()
    replayed = ask(client_for(server, secret, Cache(db, mode="replay-only"), CallLog(db)))
    assert (replayed.requests, replayed.reasks, replayed.cached) == (2, 1, 2)
    assert len(CallLog(db).rows(cached=1)) == 2 and len(CallLog(db).rows(cached=0)) == 2
    entry = Cache(db).lookup("fixture-loopback", rows[1]["cache_key"])
    assert entry is not None and entry["response"]["usage"]["prompt_tokens"] == 7
    assert Cache(db).messages(entry) == json.loads(rows[1]["messages"])


def test_without_a_log_a_db_cache_writes_only_what_it_replays(server, secret, tmp_path):
    db = tmp_path / "cache.db"
    server.script(completion(tool=VALID))
    ask(client_for(server, secret, Cache(db)))
    ask(client_for(server, secret, Cache(db)))
    assert len(server.chat_requests()) == 1
    (row,) = CallLog(db).rows()
    assert (row["status"], row["cached"], row["cache_key"] is not None) == ("ok", 0, True)


def test_refresh_in_a_db_cache_replays_the_latest_answer(server, secret, tmp_path):
    db = tmp_path / "logs.db"
    server.script(completion(tool=VALID, usage=(100, 20)), completion(tool=VALID, usage=(111, 22)))
    ask(client_for(server, secret, Cache(db), CallLog(db)))
    ask(client_for(server, secret, Cache(db, mode="refresh"), CallLog(db)))
    replayed = ask(client_for(server, secret, Cache(db, mode="replay-only")))
    assert replayed.replayed_input_tokens == 111 and len(server.chat_requests()) == 2


def test_failed_calls_are_no_entries_and_off_opens_no_database(server, secret, tmp_path):
    db = tmp_path / "logs.db"
    with pytest.raises(CacheMiss):
        ask(client_for(server, secret, Cache(db, mode="replay-only"), CallLog(db)))
    assert Cache(db).lookup("fixture-loopback", CallLog(db).rows()[0]["cache_key"]) is None
    assert Cache(tmp_path / "other.db", mode="off").log is None
    assert not (tmp_path / "other.db").exists()


def test_the_default_cache_is_the_call_log_database(tmp_path, monkeypatch):
    monkeypatch.delenv("LLM_EXTRACT_CACHE_DIR", raising=False)
    monkeypatch.setenv("LLM_EXTRACT_HOME", str(tmp_path))
    cache = Cache()
    assert cache.directory == CallLog().path == tmp_path / "logs.db" and cache.log is not None
    assert Cache(tmp_path / "folder.db").log is not None
    (tmp_path / "dir.db").mkdir()
    assert Cache(tmp_path / "dir.db").log is None and Cache(tmp_path / "x").log is None


def test_no_log_writes_no_rows(server, tmp_path):
    """`--no-log` with the default cache (the call log's database): it replays what the
    log holds and adds nothing to it, and with no log yet it creates none."""
    home = tmp_path / "llm-extract-home"  # conftest's $LLM_EXTRACT_HOME
    server.responder = lambda request: completion(
        tool=answer(evidence=[{"text": article_of(request).split(".")[0]}]) | {"positions": []}
    )
    extract = ["extract", SEED, "--model", "fixture-loopback", "--base-url", server.url]
    ran = CliRunner().invoke(app, [*extract, "--no-log"])
    assert ran.exit_code == 0, ran.output
    assert not (home / "logs.db").exists()
    ran = CliRunner().invoke(app, extract)
    assert ran.exit_code == 0, ran.output
    logged = CallLog(home / "logs.db").rows()
    assert len(logged) == 1 and len(server.chat_requests()) == 2
    ran = CliRunner().invoke(app, [*extract, "--no-log"])
    assert ran.exit_code == 0, ran.output
    assert len(server.chat_requests()) == 2, "the logged answer was not replayed"
    assert CallLog(home / "logs.db").rows() == logged
