"""A re-run into the same results file redoes what changed and nothing else: an article
whose text or publication date changed since its result was written has its line
replaced; finished work with unchanged input is kept (and a finished run loads no model)."""

from __future__ import annotations

import datetime as dt
import json
import logging

from typer.testing import CliRunner

import llm_extract
from llm_extract.articles import text_hash
from llm_extract.cli import app
from llm_extract.runner import interrupted
from llm_extract.schemas import ExtractionResult

runner = CliRunner()
YESTERDAY = "Вчера министры иностранных дел России и Турции Сергей Лавров и Хакан Фидан провели переговоры в Анкаре."


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_a_rerun_with_published_replaces_the_undated_result(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(YESTERDAY, "utf-8")
    out = tmp_path / "r.jsonl"
    first = runner.invoke(app, ["extract", str(article), "-m", "baseline", "--results", str(out)])
    assert first.exit_code == 0, first.output
    [undated] = _lines(out)
    assert undated["published"] is None and undated["extraction"]["meetings"][0]["date"] is None

    again = runner.invoke(
        app,
        ["extract", str(article), "-m", "baseline", "--published", "2026-03-20",
         "--results", str(out)],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "nothing to do" not in again.stderr
    assert "1 articles changed since their results were written" in again.stderr
    [dated] = _lines(out)
    assert dated["published"] == "2026-03-20"
    assert dated["extraction"]["meetings"][0]["date"]["start"] == "2026-03-19"

    same = runner.invoke(
        app,
        ["extract", str(article), "-m", "baseline", "--published", "2026-03-20",
         "--results", str(out)],
    )  # fmt: skip
    assert "nothing to do, all 1 articles are done" in same.stderr
    assert _lines(out) == [dated]


def test_an_edited_article_is_redone_and_the_others_are_kept(tmp_path, caplog):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(YESTERDAY, "utf-8")
    (folder / "b.txt").write_text(YESTERDAY + " Стороны обсудили Сирию.", "utf-8")
    out = tmp_path / "r.jsonl"
    llm_extract.extract([folder], model="baseline", out=out, progress=False)
    before = out.read_text("utf-8").splitlines()
    texts = [YESTERDAY, YESTERDAY + " Стороны обсудили Сирию."]
    assert [line["text_hash"] for line in _lines(out)] == [text_hash(t) for t in texts]

    edited = "Сегодня Сергей Лавров и Хакан Фидан провели переговоры в Стамбуле."
    (folder / "a.txt").write_text(edited, "utf-8")
    with caplog.at_level(logging.WARNING, logger="llm_extract"):
        results = llm_extract.extract([folder], model="baseline", out=out, progress=False)
    said = [r.getMessage() for r in caplog.records]
    assert any("1 articles changed since their results were written" in m for m in said), said
    assert any("resuming, 1 of 2 articles already done" in m for m in said), said
    lines = out.read_text("utf-8").splitlines()
    assert len(lines) == 2 and lines[0] == before[1]  # b's line untouched, a's rewritten
    a = ExtractionResult.model_validate_json(lines[1])
    assert a.article_id == "a" and a.text_hash == text_hash(edited)
    assert a.extraction.meetings[0].location.place == "Стамбул"
    assert [r.article_id for r in results] == ["a", "b"]


def test_results_from_before_text_hash_compare_on_the_date_alone(tmp_path, caplog):
    article = tmp_path / "a.txt"
    article.write_text(YESTERDAY, "utf-8")
    out = tmp_path / "r.jsonl"
    llm_extract.extract([article], model="baseline", out=out, progress=False)
    [line] = _lines(out)
    del line["text_hash"]  # as an older version wrote it
    out.write_text(json.dumps(line, ensure_ascii=False) + "\n", "utf-8")

    article.write_text(YESTERDAY + " Ещё.", "utf-8")  # no digest to tell: kept
    with caplog.at_level(logging.WARNING, logger="llm_extract"):
        llm_extract.extract([article], model="baseline", out=out, progress=False)
    assert any("nothing to do, all 1 articles are done" in r.getMessage() for r in caplog.records)
    assert _lines(out) == [line]

    llm_extract.extract(
        [article], model="baseline", out=out, progress=False, published=dt.date(2026, 3, 20)
    )
    [redone] = _lines(out)
    assert redone["published"] == "2026-03-20" and redone["text_hash"] is not None


def test_a_changed_article_is_redone_with_retry_failed_too(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text(YESTERDAY, "utf-8")
    bad = tmp_path / "b.txt"
    bad.write_bytes(b"\x00\x01binary")
    out = tmp_path / "r.jsonl"
    llm_extract.extract([good, bad], model="baseline", out=out, progress=False)
    bad.write_text(YESTERDAY, "utf-8")
    good.write_text(YESTERDAY + " Ещё.", "utf-8")
    llm_extract.extract([good, bad], model="baseline", out=out, progress=False, retry_failed=True)
    lines = {r["article_id"]: r for r in _lines(out)}
    assert {k: r["status"] for k, r in lines.items()} == {"a": "ok", "b": "ok"}
    assert lines["a"]["text_hash"] == text_hash(YESTERDAY + " Ещё.")


def test_messages_name_the_option_as_it_is_spelled_now(tmp_path):
    """`--results` is the option (`--out` its old spelling, still taken): what a run says
    names the one `--help` shows."""
    (tmp_path / "a.txt").write_text(YESTERDAY, "utf-8")
    result = runner.invoke(
        app, ["extract", str(tmp_path / "a.txt"), "-m", "baseline", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    said = " ".join(result.output.replace("│", " ").split())
    assert f"--results {tmp_path} is a folder" in said and "--out" not in said
    assert "give --results to keep finished work" in interrupted(1, 2, 0, None)


def test_a_last_line_with_fields_of_another_version_is_kept_not_mended_away(tmp_path, caplog):
    """A whole last line is not an interrupted run's, whatever fields it has: a file
    written by a newer version (as `text_hash` once was new) keeps its last result."""
    article = tmp_path / "a.txt"
    article.write_text(YESTERDAY, "utf-8")
    out = tmp_path / "r.jsonl"
    llm_extract.extract([article], model="baseline", out=out, progress=False)
    [line] = _lines(out)
    out.write_text(json.dumps(line | {"a_later_field": 1}, ensure_ascii=False), "utf-8")
    with caplog.at_level(logging.WARNING, logger="llm_extract"):
        llm_extract.extract([article], model="baseline", out=out, progress=False)
    said = [r.getMessage() for r in caplog.records]
    assert not any("dropping an unfinished last line" in m for m in said), said
    assert any("nothing to do, all 1 articles are done" in m for m in said), said
    assert [r["article_id"] for r in _lines(out)] == ["a"]
