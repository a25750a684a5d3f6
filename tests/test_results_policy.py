"""One reader of results JSONL with one policy for a bad line, whoever reads: resume,
the corpus code, scoring and the review page (`llm_extract/results.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_extract.errors import ConfigError


def _result_line(article_id: str) -> str:
    return (
        f'{{"article_id": "{article_id}", "source": "{article_id}.txt", "model": "m", '
        '"status": "failed", "error": "x"}'
    )


def _readers() -> dict[str, object]:
    from llm_extract import extraction, results, score, view

    return {
        "results.read_results": lambda p: results.read_results([p]).results,
        "extraction.read_results (resume)": extraction.read_results,
        "score.load_predictions": lambda p: list(score.load_predictions(p).values()),
        "view.build_view": lambda p: view.build_view(p).articles,
    }


@pytest.mark.parametrize("reader", list(_readers()))
def test_every_results_reader_has_the_one_policy_for_a_bad_line(
    reader: str, tmp_path: Path
) -> None:
    read = _readers()[reader]
    path = tmp_path / "r.jsonl"
    path.write_text(_result_line("a") + "\n" + _result_line("b")[:30] + "\n", "utf-8")
    assert len(read(path)) == 1  # a torn last line (a killed run) is skipped
    path.write_text(_result_line("a") + "\nnot json\n" + _result_line("b") + "\n", "utf-8")
    with pytest.raises(ConfigError, match=r"r\.jsonl:2: not JSON"):
        read(path)  # any other bad line is an error naming it: no article lost or made up


def test_resume_reads_with_the_same_reader() -> None:
    from llm_extract import extraction, results

    assert extraction.iter_results is results.iter_results
