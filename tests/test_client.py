"""The client through the real openai client against the loopback server."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from answers import INVALID, VALID
from loopback import LoopbackServer, Reply, completion

from llm_extract.cache import CallLog
from llm_extract.client import CallStats, Client, ClientConfig, Completion, Pacer
from llm_extract.errors import ConfigError, ModelOutputError, TransportError
from llm_extract.schemas import ArticleExtraction
from llm_extract.settings import EndpointSettings

SYSTEM = "Extract meetings."
TURNS = [{"role": "user", "content": "Статья."}]


def make_client(server: LoopbackServer, secret: str, **options) -> Client:
    config = ClientConfig.from_env(**options.pop("config", {}))
    endpoint = EndpointSettings.from_env(
        "fixture-loopback", base_url=server.url, api_key=secret, mode=options.pop("mode", None)
    )
    return Client(endpoint, config, **options)


def complete(client: Client, *, max_reasks: int = 2) -> tuple[Completion, CallStats]:
    stats = CallStats(article_id="a")

    async def run() -> Completion:
        try:
            return await client.complete(SYSTEM, TURNS, stats=stats, max_reasks=max_reasks)
        finally:
            await client.aclose()

    return asyncio.run(run()), stats


def fails(client: Client, error: type[Exception], *, max_reasks: int = 2) -> tuple[str, CallStats]:
    stats = CallStats(article_id="a")

    async def run() -> None:
        try:
            await client.complete(SYSTEM, TURNS, stats=stats, max_reasks=max_reasks)
        finally:
            await client.aclose()

    with pytest.raises(error) as caught:
        asyncio.run(run())
    return str(caught.value), stats


def test_valid_answer_parses_and_counts_one_call(server, secret):
    server.script(completion(tool=VALID, usage=(120, 30)))
    done, stats = complete(make_client(server, secret))
    assert isinstance(done.value, ArticleExtraction)
    assert done.value.meetings[0].status == "held"
    assert (stats.requests, stats.attempts, stats.reasks) == (1, 1, 0)
    assert (stats.input_tokens, stats.output_tokens) == (120, 30)
    sent = server.chat_requests()[0].json
    assert sent["model"] == "fixture-loopback"
    assert sent["tools"][0]["function"]["name"] == "ArticleExtraction"
    assert sent["messages"] == [{"role": "system", "content": SYSTEM}, *TURNS]
    assert server.chat_requests()[0].headers["authorization"] == f"Bearer {secret}"


def test_an_answer_missing_the_fields_local_servers_leave_out_still_parses(server, secret):
    reply = completion(tool=VALID, usage=(7, 3))
    for key in ("id", "object", "created"):
        del reply.body[key]
    del reply.body["choices"][0]["index"]
    server.script(reply)
    done, stats = complete(make_client(server, secret))
    assert done.value.meetings[0].status == "held"
    assert (stats.input_tokens, stats.output_tokens) == (7, 3)


def test_429_waits_as_long_as_retry_after_says(server, secret):
    server.script(
        Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "1"}),
        completion(tool=VALID),
    )
    _, stats = complete(make_client(server, secret))
    first, second = server.chat_requests()
    assert second.received_at - first.received_at >= 0.95  # backoff alone is 0.01-0.02 s
    assert (stats.attempts, stats.requests) == (2, 1)


def test_retry_after_longer_than_allowed_fails_at_once(server, secret):
    server.script(
        Reply(429, {"error": {"message": "come back tomorrow"}}, headers={"Retry-After": "86400"})
    )
    message, stats = fails(make_client(server, secret), TransportError)
    assert "rate limited" in message and "HTTP 429" in message
    assert stats.attempts == 1 and len(server.chat_requests()) == 1


def test_500_is_retried(server, secret):
    server.script(Reply(500, {"error": {"message": "boom"}}), completion(tool=VALID))
    _, stats = complete(make_client(server, secret))
    assert stats.attempts == 2


def test_server_errors_until_retries_run_out(server, secret):
    server.script(*[Reply(503, {"error": {"message": "overloaded"}})] * 3)
    message, stats = fails(make_client(server, secret, config={"retries": 2}), TransportError)
    assert "HTTP 503: overloaded" in message and "3 attempts" in message
    assert stats.attempts == 3 and stats.requests == 0


def test_timeout_is_retried(server, secret):
    server.script(completion(tool=VALID, delay=2.0), completion(tool=VALID))
    started = time.monotonic()
    _, stats = complete(make_client(server, secret, config={"timeout": 0.3}))
    assert stats.attempts == 2
    assert time.monotonic() - started < 1.9


def test_timeouts_until_retries_run_out(server, secret):
    server.script(*[completion(tool=VALID, delay=1.0)] * 2)
    message, stats = fails(
        make_client(server, secret, config={"timeout": 0.2, "retries": 1}), TransportError
    )
    assert "within 0.2 s" in message and stats.attempts == 2


def test_reset_connection_is_retried(server, secret):
    server.script(Reply(drop=True), completion(tool=VALID))
    _, stats = complete(make_client(server, secret))
    assert stats.attempts == 2 and len(server.chat_requests()) == 2


@pytest.mark.parametrize(
    "body",
    ["<html>502 Bad Gateway</html>", '{"id": "x", "choices": "none"}', '{"truncated": '],
)
def test_malformed_body_is_retried(server, secret, body):
    server.script(Reply(200, body), completion(tool=VALID))
    done, stats = complete(make_client(server, secret))
    assert stats.attempts == 2 and stats.reasks == 0
    assert done.value.meetings


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (400, TransportError, "rejected the request (HTTP 400"),
        (401, ConfigError, "refused the API key (HTTP 401"),
        (403, ConfigError, "refused the API key (HTTP 403"),
        (404, ConfigError, "no such model or route"),
    ],
)
def test_client_errors_are_not_retried(server, secret, status, error, words):
    server.script(Reply(status, {"error": {"message": "nope"}}))
    message, stats = fails(make_client(server, secret), error)
    assert words in message
    assert len(server.chat_requests()) == 1 and stats.attempts == 1


def test_key_echoed_by_the_server_is_redacted(server, secret):
    server.script(Reply(401, {"error": {"message": f"bad key {secret}"}}))
    message, _ = fails(make_client(server, secret), ConfigError)
    assert secret not in message and "[redacted]" in message
    assert "$OPENAI_API_KEY" in message


def test_schema_invalid_answer_is_reasked_with_the_error(server, secret):
    server.script(
        completion(tool=INVALID, usage=(100, 10)), completion(tool=VALID, usage=(150, 40))
    )
    done, stats = complete(make_client(server, secret))
    assert done.value.meetings[0].status == "held"
    assert (stats.requests, stats.reasks, stats.attempts) == (2, 1, 2)
    assert (stats.input_tokens, stats.output_tokens) == (250, 50)
    reask = server.chat_requests()[1].json["messages"]
    assert reask[:2] == server.chat_requests()[0].json["messages"]
    assert reask[2]["role"] == "assistant"
    assert json.loads(reask[2]["tool_calls"][0]["function"]["arguments"]) == INVALID
    feedback = reask[3]["content"]
    assert reask[3]["role"] == "tool"
    assert "meetings.0.status" in feedback and "'finished'" in feedback
    assert "meetings.0.evidence" in feedback and "at least 1 item" in feedback


def test_malformed_json_from_the_model_is_reasked(server, secret):
    server.script(completion(tool='{"meetings": [ {"status": "held",'), completion(tool=VALID))
    _, stats = complete(make_client(server, secret))
    assert stats.reasks == 1
    assert "Validation Error" in server.chat_requests()[1].json["messages"][-1]["content"]


def test_answer_invalid_after_every_reask_fails_with_reason(server, secret):
    server.script(*[completion(tool=INVALID)] * 3)
    message, stats = fails(make_client(server, secret), ModelOutputError, max_reasks=2)
    assert "failed validation after 2 re-asks" in message
    assert "meetings.0.status" in message
    assert (stats.requests, stats.reasks) == (3, 2)


def test_finish_reason_length_fails_without_reask(server, secret):
    server.script(completion(tool='{"meetings": [', finish_reason="length", usage=(100, 4096)))
    message, stats = fails(make_client(server, secret), ModelOutputError)
    assert "finish_reason=length" in message and "4096 output tokens" in message
    assert (stats.requests, stats.reasks, stats.output_tokens) == (1, 0, 4096)


@pytest.mark.parametrize("mode", ["json_schema", "json", "md_json"])
def test_json_modes(server, secret, mode):
    text = json.dumps(VALID, ensure_ascii=False)
    server.script(completion(content=f"```json\n{text}\n```" if mode == "md_json" else text))
    done, _ = complete(make_client(server, secret, mode=mode))
    assert done.value.meetings[0].delegations[0].side == "RU"
    sent = server.chat_requests()[0].json
    assert "tools" not in sent
    if mode == "json_schema":
        assert sent["response_format"]["type"] == "json_schema"
    else:  # the schema travels in the system message
        assert "meetings" in sent["messages"][0]["content"]
        assert sent["messages"][0]["content"].startswith(SYSTEM)
    assert TURNS[0]["content"] in sent["messages"][1]["content"]


def test_json_schema_refused_by_repeated_bare_500s_falls_back_to_tools(server, secret, caplog):
    bare = Reply(500, {"error": {"message": "Internal Server Error"}})
    server.script(bare, bare, bare, completion(tool=VALID))
    client = make_client(server, secret, mode="json_schema")
    with caplog.at_level(logging.WARNING, logger="llm_extract"):
        done, stats = complete(client)
    *refused, last = (r.json for r in server.chat_requests())
    assert len(refused) == 3
    assert all(r["response_format"]["type"] == "json_schema" for r in refused)
    assert "tools" in last and "response_format" not in last
    assert done.mode == "tools" and client.mode == "tools"
    assert (
        "rejected mode json_schema (HTTP 500" in caplog.text
        and "falling back to tools" in caplog.text
    )
    assert stats.attempts == 4


def test_one_transient_500_keeps_an_explicit_json_schema_mode(server, secret, caplog):
    server.script(
        Reply(500, {"error": {"message": "Internal Server Error"}}),
        completion(content=json.dumps(VALID)),
    )
    client = make_client(server, secret, mode="json_schema")
    with caplog.at_level(logging.WARNING, logger="llm_extract"):
        done, stats = complete(client)
    assert done.mode == "json_schema" and client.mode == "json_schema"
    assert all("response_format" in r.json for r in server.chat_requests())
    assert "falling back" not in caplog.text and stats.attempts == 2


def test_tools_400_naming_the_feature_falls_back(server, secret):
    server.script(
        Reply(400, {"error": {"message": "tool_choice is not supported by this server"}}),
        completion(content=json.dumps(VALID)),
    )
    client = make_client(server, secret)
    done, _ = complete(client)
    assert done.mode == "json_schema"


def test_llama_server_without_jinja_rejecting_tools_falls_back(server, secret):
    server.script(
        Reply(500, {"error": {"message": "tools param requires --jinja flag"}}),
        completion(content=json.dumps(VALID)),
    )
    client = make_client(server, secret)
    done, stats = complete(client)
    assert done.mode == "json_schema" and client.mode == "json_schema"
    assert len(server.chat_requests()) == 2 and stats.attempts == 2


def test_a_500_naming_another_modes_feature_is_no_rejection(server, secret):
    server.script(
        Reply(500, {"error": {"message": "tools param requires --jinja flag"}}),
        completion(content=json.dumps(VALID)),
    )
    done, _ = complete(make_client(server, secret, mode="md_json"))
    assert done.mode == "md_json" and len(server.chat_requests()) == 2


def test_tools_answer_in_the_message_text_is_accepted_when_it_validates(server, secret):
    # llama-server treats instructor's object tool_choice as "auto": the model may answer in text
    server.script(completion(content=json.dumps(VALID, ensure_ascii=False)))
    done, stats = complete(make_client(server, secret), max_reasks=0)
    assert done.mode == "tools" and done.value.meetings[0].status == "held"
    assert (stats.requests, stats.reasks, stats.text_answers) == (1, 0, 1)
    assert "not a tool call" in stats.warnings[0]
    assert server.chat_requests()[0].json["tool_choice"]["type"] == "function"  # standard value


def test_tools_answer_in_text_that_does_not_validate_is_still_reasked(server, secret):
    server.script(completion(content=json.dumps(INVALID)), completion(tool=VALID))
    _, stats = complete(make_client(server, secret))
    assert (stats.reasks, stats.text_answers, stats.warnings) == (1, 0, [])


def test_500_in_a_mode_that_worked_is_not_a_rejection(server, secret):
    server.script(
        completion(tool=VALID), Reply(500, {"error": {"message": "boom"}}), completion(tool=VALID)
    )
    client = make_client(server, secret)

    async def twice() -> None:
        for _ in range(2):
            await client.complete(SYSTEM, TURNS, stats=CallStats(), max_reasks=0)
        await client.aclose()

    asyncio.run(twice())
    assert client.mode == "tools" and len(server.chat_requests()) == 3


class FrozenClock:
    """Time stands still unless a sleep moves it: pacing without wall-clock gaps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))


def test_pacer_gives_each_start_its_own_slot():
    clock = FrozenClock()
    pacer = Pacer(600, clock=clock, sleep=clock.sleep)  # one start per 0.1 s

    async def starts() -> list[float]:
        return [round(await pacer.wait(), 9) for _ in range(4)]

    assert asyncio.run(starts()) == [100.0, 100.1, 100.2, 100.3]
    assert clock.sleeps == [0.1, 0.2, 0.3]
    clock.now = 200.0  # idle for a while: the next start need not wait
    assert asyncio.run(starts())[0] == 200.0


def test_rpm_spaces_request_starts(server, secret):
    server.responder = lambda _request: completion(tool=VALID)
    clock = FrozenClock()
    pacer = Pacer(600, clock=clock, sleep=clock.sleep)
    client = make_client(server, secret, config={"rpm": 600}, pacer=pacer)
    assert make_client(server, secret, config={"rpm": 600}).pacer.interval == 0.1

    async def many() -> None:
        await asyncio.gather(
            *(client.complete(SYSTEM, TURNS, stats=CallStats(), max_reasks=0) for _ in range(5))
        )
        await client.aclose()

    asyncio.run(many())
    assert len(server.chat_requests()) == 5
    assert sorted(clock.sleeps) == [0.1, 0.2, 0.3, 0.4]  # every start waited for its own slot


def test_the_offline_guard_stops_a_real_endpoint():
    client = Client(
        EndpointSettings.from_env(
            "fixture-x", base_url="http://api.example.com/v1", api_key="sk-test-guard"
        ),
        ClientConfig.from_env(retries=0),
    )
    message, _ = fails(client, TransportError)
    assert "cannot reach" in message and "offline" in message


def test_no_endpoint_is_a_config_error():
    with pytest.raises(ConfigError, match="no endpoint"):
        Client("some-model")


@pytest.mark.parametrize(
    "url",
    ["not a url", "htp://127.0.0.1:8000/v1", "127.0.0.1:11434/v1", "http://127.0.0.1:99999/v1"],
)
def test_a_base_url_that_cannot_name_an_endpoint_is_refused_at_once(url):
    with pytest.raises(ConfigError, match="is not an http\\(s\\) URL"):
        Client(EndpointSettings.from_env("some-model", base_url=url, api_key="sk-test-x"))


def test_credentials_in_the_base_url_never_reach_errors_or_the_log(tmp_path, secret):
    log = CallLog(tmp_path / "calls.db")
    url = "http://agent:pw-SECRET42@127.0.0.1:9/v1?key=query-SECRET43"
    config = ClientConfig.from_env(retries=0)
    client = Client(
        EndpointSettings.from_env("some-model", base_url=url, api_key=secret), config, call_log=log
    )
    message, _ = fails(client, TransportError)
    assert message.startswith("cannot reach http://127.0.0.1:9/v1")
    stored = "\n".join(str(row) for row in log.rows())
    for leak in ("pw-SECRET42", "query-SECRET43", "agent", secret):
        assert leak not in message and leak not in stored


def test_unknown_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="choose from tools"):
        Client(
            EndpointSettings.from_env("some-model", base_url="http://127.0.0.1:9/v1", mode="xml")
        )


def test_provider_string_goes_through_from_provider(server, secret):
    server.script(completion(content=json.dumps(VALID)))
    client = Client(
        EndpointSettings.from_env("ollama/fixture-tiny", base_url=server.url),
        ClientConfig.from_env(),
    )
    assert client.mode == "json"  # instructor's pick for an Ollama model without tools
    done, _ = complete(client)
    assert done.value.meetings
    assert server.chat_requests()[0].json["model"] == "fixture-tiny"


def test_provider_without_an_openai_client_goes_through_its_compatible_endpoint(
    server, monkeypatch
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-anthropic")
    server.script(completion(tool=VALID))
    client = Client(
        EndpointSettings.from_env("anthropic/fixture-claude", base_url=server.url),
        ClientConfig.from_env(),
    )
    done, _ = complete(client)
    assert done.value.meetings
    sent = server.chat_requests()[0]
    assert sent.json["model"] == "fixture-claude" and "tools" in sent.json
    assert sent.headers["authorization"] == "Bearer sk-test-anthropic"
    assert Client("anthropic/fixture-claude").base_url == "https://api.anthropic.com/v1/"


def test_provider_key_missing_names_its_variable():
    with pytest.raises(ConfigError, match=r"\$GEMINI_API_KEY"):
        Client("gemini/gemini-flash")


@pytest.mark.parametrize("setting", [{"rpm": 0}, {"rpm": -5}, {"timeout": 0}, {"max_tokens": 0}])
def test_a_zero_or_negative_cap_is_refused(setting):
    with pytest.raises(ConfigError, match="must be more than 0"):
        ClientConfig.from_env(**setting)


def _required_everywhere(node: object) -> bool:
    """Every object schema in `node` requires all its properties and allows no others."""
    if isinstance(node, list):
        return all(_required_everywhere(item) for item in node)
    if not isinstance(node, dict):
        return True
    if "default" in node:
        return False
    properties = node.get("properties")
    if isinstance(properties, dict):
        if (
            node.get("required") != list(properties)
            or node.get("additionalProperties") is not False
        ):
            return False
        return all(_required_everywhere(sub) for sub in properties.values()) and all(
            _required_everywhere(v) for k, v in node.items() if k != "properties"
        )
    return all(_required_everywhere(v) for v in node.values())


def test_json_schema_is_sent_strict_and_answers_validate_the_same(server, secret):
    nulls = {"date": None, "format": None, "location": None, "topics": [], "outcomes": []}
    answer = {**VALID, "meetings": [{**VALID["meetings"][0], **nulls}]}
    server.script(
        completion(content=json.dumps(INVALID, ensure_ascii=False)),
        completion(content=json.dumps(answer, ensure_ascii=False)),
    )
    done, stats = complete(make_client(server, secret, mode="json_schema"))
    spec = server.chat_requests()[0].json["response_format"]["json_schema"]
    assert spec["strict"] is True
    assert _required_everywhere(spec["schema"])
    end = spec["schema"]["$defs"]["EventDate"]["properties"]["end"]
    assert {"type": "null"} in end["anyOf"]  # optional stays nullable
    assert stats.reasks == 1, "an answer the records refuse is still re-asked"
    assert done.value.meetings[0].date is None


def test_temperature_is_sent_only_when_set(server, secret):
    server.script(completion(tool=VALID), completion(tool=VALID))
    complete(make_client(server, secret))
    complete(make_client(server, secret, config={"temperature": 0.2}))
    first, second = (r.json for r in server.chat_requests())
    assert "temperature" not in first
    assert second["temperature"] == 0.2
