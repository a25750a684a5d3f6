"""The model seam: names read in one place, and an in-process scripted model driving the
whole pipeline (grounding, re-asks for quotes, chunks, failures) with no server."""

from __future__ import annotations

import asyncio
import datetime as dt

from answers import ARTICLE, MEETING_QUOTE, VALID, answer

from llm_extract.articles import Article
from llm_extract.errors import ModelOutputError
from llm_extract.models import BaselineModel, LLMModel, ScriptedModel, model_kind, open_model
from llm_extract.pipeline import Extractor
from llm_extract.schemas import ExtractionResult
from llm_extract.settings import ExtractionSettings


def article(text: str = ARTICLE) -> Article:
    return Article(id="geneva", text=text, published=dt.date(2026, 1, 21), source="geneva.txt")


def run(extractor: Extractor, item: Article) -> ExtractionResult:
    return asyncio.run(extractor.extract(item))


def test_model_names_are_read_in_one_place():
    assert model_kind("baseline") == "baseline"
    assert model_kind("fixture-careful") == "fixture"
    assert model_kind("openai/gpt-4o-mini") == "llm"
    assert model_kind("qwen2.5:7b") == "llm"
    assert isinstance(open_model("baseline"), BaselineModel)
    replay = open_model("fixture-careful")
    assert isinstance(replay, LLMModel) and replay.name == "fixture-careful"


def test_a_scripted_model_runs_the_pipeline_without_a_server():
    model = ScriptedModel([VALID])
    result = run(Extractor(model), article())
    assert result.status == "ok" and result.model == "fixture-scripted" and result.mode is None
    meeting = result.extraction.meetings[0]
    assert ARTICLE[meeting.evidence[0].start : meeting.evidence[0].end] == MEETING_QUOTE
    us = next(d for d in meeting.delegations if d.side == "US")
    assert (us.head.name, us.head.person_id) == ("Стивен Уиткофф", "steve-witkoff")
    assert [p.text for p in model.passages] == [ARTICLE]


def test_quotes_not_found_are_put_to_the_model_again():
    invented = answer(evidence=[{"text": "Ушаков и Уиткофф вместе обедали на берегу озера"}])
    model = ScriptedModel([invented, VALID])
    result = run(Extractor(model), article())
    assert result.status == "ok" and model.served == 2 and result.reasks == 1
    assert result.extraction.meetings[0].evidence[0].text == MEETING_QUOTE
    assert result.warnings == []


def test_a_long_article_is_read_in_chunks_and_merged():
    text = ARTICLE + "\n" + "\n".join(f"Абзац {n} о погоде в Женеве." for n in range(200))
    extractor = Extractor(
        ScriptedModel([]), None, ExtractionSettings(grounding_reasks=0, chunk_chars=1600)
    )
    count = len(extractor.passages(article(text)))
    model = ScriptedModel([VALID] * count)
    result = run(
        Extractor(model, None, ExtractionSettings(grounding_reasks=0, chunk_chars=1600)),
        article(text),
    )
    assert count > 1 and [p.chunk for p in model.passages] == [
        (n, count) for n in range(1, count + 1)
    ]
    assert result.status == "ok" and len(result.extraction.meetings) == 1


def test_a_model_error_is_a_failed_result_with_its_kind():
    model = ScriptedModel([ModelOutputError("not JSON at all", failure="parse")])
    result = run(Extractor(model), article())
    assert (result.status, result.failure, result.error) == ("failed", "parse", "not JSON at all")
    assert result.extraction is None
