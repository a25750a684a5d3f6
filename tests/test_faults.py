"""Faults a real endpoint can have, one at a time, through the real client on the loopback
server: trickling and dead servers, dropped connections, credentials in the base URL,
keys too short to redact, and answers that must reach the parser as they were sent."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time

import pytest
from answers import VALID
from loopback import Reply, completion
from test_client import SYSTEM, TURNS, complete, fails, make_client

from llm_extract.cache import Cache, CallLog
from llm_extract.client import CallStats, Client, ClientConfig
from llm_extract.errors import ConfigError, TransportError
from llm_extract.settings import EndpointSettings


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_trickling_server_is_timed_out_per_attempt(server, secret):
    server.script(*[Reply(200, json.dumps(completion(tool=VALID).body), trickle=0.05)] * 2)
    started = time.monotonic()
    message, stats = fails(
        make_client(server, secret, config={"timeout": 0.5, "retries": 1}), TransportError
    )
    assert time.monotonic() - started < 3  # the answer alone would take ~40 s
    assert "within 0.5 s" in message and stats.attempts == 2


def test_a_dead_endpoint_fails_in_about_two_seconds_with_default_backoff(monkeypatch):
    monkeypatch.setenv("LLM_EXTRACT_BACKOFF", "1")
    monkeypatch.setenv("LLM_EXTRACT_BACKOFF_MAX", "30")
    client = Client(
        EndpointSettings.from_env(
            "fixture-x", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key="none"
        )
    )
    started = time.monotonic()
    message, stats = fails(client, TransportError)
    took = time.monotonic() - started
    assert took < 2.5, took  # 5 attempts with backoff took about 20 s
    assert "cannot reach" in message and "is the server running" in message
    assert stats.attempts >= 2 and client.endpoint_fault


def test_a_server_that_answered_keeps_its_backoff_and_a_drop_is_not_called_unreachable(
    server, secret
):
    server.script(completion(tool=VALID), *[Reply(drop=True)] * 3)
    client = make_client(server, secret, config={"retries": 2})
    stats = CallStats()

    async def run() -> str:
        await client.complete(SYSTEM, TURNS, stats=stats, max_reasks=0)
        try:
            await client.complete(SYSTEM, TURNS, stats=stats, max_reasks=0)
        except TransportError as err:
            return str(err)
        finally:
            await client.aclose()
        raise AssertionError("the dropped connections did not fail the call")

    message = asyncio.run(run())
    assert "dropped the connection" in message and "3 attempts" in message
    assert "is the server running" not in message and client.endpoint_fault is None


@pytest.mark.parametrize("key", ["x", "abc", "sk-1234"])
def test_a_key_too_short_to_redact_is_refused(server, key):
    with pytest.raises(ConfigError, match="too short to keep out of logs"):
        Client(EndpointSettings.from_env("fixture-loopback", base_url=server.url, api_key=key))


def test_a_short_key_from_the_environment_names_its_variable(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    with pytest.raises(ConfigError, match=r"\$OPENAI_API_KEY is 1 characters"):
        Client(EndpointSettings.from_env("fixture-loopback", base_url=server.url))


def test_a_key_no_header_can_carry_is_refused(server):
    with pytest.raises(ConfigError, match="non-ASCII"):
        Client(
            EndpointSettings.from_env(
                "fixture-loopback", base_url=server.url, api_key="sk-test-Женева00"
            )
        )


@pytest.mark.parametrize("key", ["EMPTY", "ollama", "none"])
def test_placeholder_keys_of_local_servers_are_accepted(server, key):
    server.script(completion(tool=VALID))
    done, _ = complete(
        Client(EndpointSettings.from_env("fixture-loopback", base_url=server.url, api_key=key))
    )
    assert done.value.meetings
    assert server.chat_requests()[0].headers["authorization"] == f"Bearer {key}"


def test_an_answer_is_parsed_and_stored_exactly_as_sent(server, tmp_path):
    """The key, and URL credentials, appear inside the answer: nothing is cut out of it."""
    key = "sk-test-Geneva00"
    answer = json.loads(json.dumps(VALID))
    answer["meetings"][0]["location"]["venue"] = f"зал {key} и pass-SECRET"
    reply = completion(tool=answer)
    reply.body["created"] = 1779622
    server.script(reply)
    db = tmp_path / "logs.db"
    url = server.url.replace("//", "//agent:pass-SECRET@") + "?api_key=query-SECRET"
    client = Client(EndpointSettings.from_env("fixture-loopback", base_url=url, api_key=key), cache=Cache(db), call_log=CallLog(db))  # fmt: skip
    done, _ = complete(client)
    assert done.value.meetings[0].location.venue == f"зал {key} и pass-SECRET"
    (row,) = CallLog(db).rows()
    assert json.loads(row["response"])["created"] == 1779622
    assert "[redacted]" not in row["response"]


def test_user_and_password_in_the_base_url_are_sent_as_basic_auth_never_shown(server):
    server.script(completion(tool=VALID))
    url = server.url.replace("//", "//agent:pass-SECRET1@")
    complete(Client(EndpointSettings.from_env("fixture-loopback", base_url=url)))
    sent = server.chat_requests()[0].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(b"agent:pass-SECRET1").decode()
    token = sent.split()[1]
    server.script(Reply(401, {"error": {"message": f"bad credentials {token} pass-SECRET1"}}))
    message, _ = fails(
        Client(EndpointSettings.from_env("fixture-loopback", base_url=url)), ConfigError
    )
    assert "refused the API key" in message
    assert token not in message and "pass-SECRET1" not in message and "agent" not in message


def test_a_key_wins_over_url_credentials_and_says_so(server, secret, caplog):
    server.script(completion(tool=VALID))
    url = server.url.replace("//", "//agent:pass-SECRET1@")
    client = Client(EndpointSettings.from_env("fixture-loopback", base_url=url, api_key=secret))
    complete(client)
    assert server.chat_requests()[0].headers["authorization"] == f"Bearer {secret}"
    assert any("user and password are not sent" in n for n in client.notices)


def test_a_query_in_the_base_url_goes_on_every_request_path(server, secret):
    server.script(completion(tool=VALID))
    url = server.url + "?api_key=query-SECRET9&v=2"
    client = Client(EndpointSettings.from_env("fixture-loopback", base_url=url, api_key=secret))
    complete(client)
    (request,) = server.chat_requests()
    assert request.path == "/v1/chat/completions?api_key=query-SECRET9&v=2"
    assert client.base_url == server.url


def test_a_malformed_base_url_is_named_without_its_password():
    with pytest.raises(ConfigError) as caught:
        Client(
            EndpointSettings.from_env(
                "fixture-x", base_url="htp://agent:pw-SECRET7@127.0.0.1:9/v1?api_key=q-SECRET8"
            )
        )
    assert "pw-SECRET7" not in str(caught.value) and "q-SECRET8" not in str(caught.value)
    assert "127.0.0.1:9/v1" in str(caught.value)


@pytest.mark.parametrize("field", ["timeout", "rpm", "backoff", "temperature"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_inf_settings_are_refused(field, value):
    with pytest.raises(ConfigError, match=f"{field} must be a finite number"):
        ClientConfig(**{field: float(value)})


def test_nan_from_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv("LLM_EXTRACT_TIMEOUT", "nan")
    with pytest.raises(ConfigError, match="timeout must be a finite number"):
        ClientConfig.from_env()


@pytest.mark.parametrize("options", [{}, {"api_key_env": "NOPE"}])
def test_a_provider_model_without_its_key_is_one_clear_error(options):
    with pytest.raises(ConfigError) as caught:
        Client(EndpointSettings.from_env("openai/gpt-4o-mini", **options))
    variable = options.get("api_key_env", "OPENAI_API_KEY")
    assert str(caught.value) == f"openai/gpt-4o-mini: set ${variable} to the provider's API key"


def test_an_html_page_on_200_is_an_endpoint_fault(server, secret):
    server.script(*[Reply(200, "<html><body>Welcome to nginx</body></html>")] * 2)
    message, _ = fails(make_client(server, secret, config={"retries": 1}), TransportError)
    assert "not a chat completion" in message
