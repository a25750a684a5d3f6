"""The run loop's promises: a run leaves the process as it found it, a result records its
own answer's mode, and a request never recorded is not a transport failure."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
from pathlib import Path

from answers import ARTICLE, VALID, article_of
from loopback import Reply, completion

from llm_extract.articles import Article
from llm_extract.cache import Cache
from llm_extract.extraction import extract, extract_async

SEEDS = sorted(Path("seeds").glob("*.txt"))


def article(text: str, article_id: str) -> Article:
    return Article(id=article_id, text=text, published=dt.date(2026, 1, 21), source=article_id)


def test_overlapping_runs_leave_the_gc_thresholds_as_they_found_them():
    before = gc.get_threshold()

    async def both() -> None:  # the first run ends while the second still goes on
        await asyncio.gather(
            extract_async(SEEDS[:1], model="baseline", progress=False),
            extract_async(SEEDS, model="baseline", progress=False),
        )

    try:
        asyncio.run(both())
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*before)


def test_a_result_records_the_mode_its_own_answer_came_in(server, secret):
    # "slow" is answered in tools mode after a while; meanwhile "fast"'s tools request is
    # refused naming the mode, and the client moves on to json_schema for the rest.
    slow_text = ARTICLE
    fast_text = ARTICLE + "\nПереговоры продолжатся."

    def respond(request):
        sent = request.json
        if "tools" not in sent:
            return completion(content=json.dumps(VALID, ensure_ascii=False))
        if article_of(request) == slow_text:
            return completion(tool=VALID, delay=1.5)
        return Reply(500, {"error": {"message": "tools param requires --jinja flag"}})

    server.responder = respond
    slow, fast = extract(
        [article(slow_text, "slow"), article(fast_text, "fast")],
        model="fixture-loopback", base_url=server.url, api_key=secret,
        cache=Cache(mode="off"), concurrency=2, progress=False,
    )  # fmt: skip
    assert (slow.status, fast.status) == ("ok", "ok")
    assert (slow.mode, fast.mode) == ("tools", "json_schema")


def test_a_fixture_request_never_recorded_is_its_own_failure_kind(tmp_path):
    [result] = extract(
        [article(ARTICLE, "geneva")], model="fixture-unrecorded",
        cache=Cache(tmp_path, mode="use"), progress=False,
    )  # fmt: skip
    assert result.status == "failed" and "never recorded" in result.error
    assert result.failure == "not_recorded"
