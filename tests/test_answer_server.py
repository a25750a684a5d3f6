"""benchmarks/answer_server.py: unanswered requests go to pending/, answers complete the
article on the next run, a re-ask included, through the real client and engine."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from answers import ARTICLE, MEETING_QUOTE, VALID
from loopback import LoopbackServer

from llm_extract.articles import Article
from llm_extract.extraction import extract
from llm_extract.schemas import ExtractionResult

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def answer_server() -> ModuleType:
    """Imported by path; the benchmarks folder does not stay on `sys.path`."""
    path = list(sys.path)
    spec = importlib.util.spec_from_file_location("_answer_server", BENCHMARKS / "answer_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
    return module


def _run(url: str) -> ExtractionResult:
    article = Article(id="geneva", text=ARTICLE, published=None, source="geneva.txt")
    [result] = extract([article], model="fixture-capable", base_url=url, mode="json_schema")
    return result


def _answer(folder: Path, pending: Path, answer: object) -> None:
    request = json.loads(pending.read_text("utf-8"))
    folder.mkdir(exist_ok=True)
    (folder / pending.name).write_text(json.dumps({"key": request["key"], "answer": answer}))
    pending.unlink()


def test_pending_then_answered_then_reasked_then_done(
    answer_server: ModuleType, tmp_path: Path
) -> None:
    answers, pending = tmp_path / "answers", tmp_path / "pending"
    responder = answer_server.AnswerResponder(answers, pending)
    invented = copy.deepcopy(VALID)
    invented["meetings"][0]["evidence"] = [{"text": "Переговоры прошли в Берне в пятницу вечером"}]
    with LoopbackServer(responder) as server:
        assert _run(server.url).status == "failed"
        [first] = pending.glob("*.json")
        request = json.loads(first.read_text("utf-8"))
        assert request["mode"] == "json_schema"
        assert [m["role"] for m in request["messages"]] == ["system", "user"]
        assert ARTICLE in request["messages"][1]["content"]
        assert set(request["schema"]["properties"]) == {"meetings", "positions"}
        _answer(answers, first, invented)

        kept = _run(server.url)  # answered, the grounding re-ask is pending: the answer is kept
        assert kept.status == "ok"
        assert kept.ungrounded == ["meetings[0].evidence[0]"]
        [reask] = pending.glob("*.json")
        messages = json.loads(reask.read_text("utf-8"))["messages"]
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
        assert "Берне" in messages[2]["content"]
        fixed = copy.deepcopy(VALID)
        fixed["meetings"][0]["evidence"] = [{"text": MEETING_QUOTE}]
        _answer(answers, reask, fixed)

        done = _run(server.url)
        assert not list(pending.glob("*.json"))
    assert (done.status, done.ungrounded, done.reasks) == ("ok", [], 1)
    assert done.model == "fixture-capable"
    assert done.usage.input_tokens > 1000  # counted: the prompt alone is thousands
    assert done.usage.output_tokens > 50


def test_key_ignores_model_and_sampling(answer_server: ModuleType) -> None:
    body = {"model": "a", "temperature": 0, "messages": [{"role": "user", "content": "x"}]}
    other = {**body, "model": "b", "temperature": 1, "max_tokens": 10}
    changed = {**body, "messages": [{"role": "user", "content": "y"}]}
    key = answer_server.request_key
    assert key(body) == key(other) != key(changed)


def test_tokens_are_counted_by_a_real_tokenizer(answer_server: ModuleType) -> None:
    assert answer_server.count_tokens("hello world") == 2
    assert 5 < answer_server.count_tokens("Помощник президента России Юрий Ушаков") < 20


def test_eval_counts_ungrounded_evidence() -> None:
    from llm_extract.evaluation import PriceTable, summarise
    from llm_extract.schemas import ArticleExtraction

    results = [
        ExtractionResult(
            article_id=name,
            source=f"{name}.txt",
            model="fixture-capable",
            status="ok",
            extraction=ArticleExtraction(),
            ungrounded=paths,
        )
        for name, paths in (("a", ["meetings[0].evidence[0]", "positions[1].quote"]), ("b", []))
    ]
    assert summarise("run", results, PriceTable()).ungrounded == 2
