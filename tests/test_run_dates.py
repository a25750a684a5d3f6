"""Publication dates given for a run or per file, relative dates left open without one,
and what a run says about itself: skipped files, nothing to do, a status line."""

from __future__ import annotations

import json
import subprocess
import sys

from answers import ARTICLE, answer, article_of
from loopback import completion
from typer.testing import CliRunner

import llm_extract
from llm_extract.cli import app

runner = CliRunner()
YESTERDAY = "Вчера министры иностранных дел России и Турции Сергей Лавров и Хакан Фидан провели переговоры в Анкаре."


def _user_message(request) -> str:
    return next(m["content"] for m in request.json["messages"] if m["role"] == "user")


def test_published_reaches_the_prompt_and_a_dates_file_wins_per_file(server, tmp_path):
    seen: dict[str, str] = {}

    def responder(request):
        user = _user_message(request)
        seen[article_of(request)] = user.splitlines()[0]
        return completion(tool=answer(evidence=[{"text": article_of(request).split(".")[0]}]))

    server.responder = responder
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, "utf-8")
    (folder / "b.txt").write_text(ARTICLE + " Ещё.", "utf-8")
    dates = tmp_path / "dates.csv"
    dates.write_text("file,published\nin/b.txt,2026-03-01\n", "utf-8")
    result = runner.invoke(
        app,
        ["extract", str(folder), "-m", "fixture-loopback", "--base-url", server.url,
         "--published", "2026-03-05", "--dates", str(dates)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen == {
        ARTICLE: "Publication date: 2026-03-05",
        ARTICLE + " Ещё.": "Publication date: 2026-03-01",
    }
    published = {r["article_id"]: r["published"] for r in json.loads(result.stdout)}
    assert published == {"a": "2026-03-05", "b": "2026-03-01"}


def test_a_bad_published_value_is_one_clear_error():
    result = runner.invoke(app, ["extract", "x.txt", "-m", "baseline", "--published", "5.3.2026"])
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())
    assert "'5.3.2026' is not a date; write it as YYYY-MM-DD" in said
    assert "Value error" not in said


def test_baseline_relative_date_without_publication_date_warns_and_stays_open():
    [result] = llm_extract.extract([llm_extract.load_article(YESTERDAY)], model="baseline")
    assert result.status == "ok"
    [meeting] = result.extraction.meetings
    assert meeting.date is None
    assert any("'Вчера' is relative" in w and "--published" in w for w in result.warnings)


def test_a_dateline_without_a_year_is_named_in_the_warning():
    """Agency datelines («МОСКВА, 20 марта.») give no year: the warning says so, not only
    that the date is unknown."""
    article = llm_extract.load_article("МОСКВА, 20 марта. " + YESTERDAY)
    [result] = llm_extract.extract([article], model="baseline")
    assert result.published is None and result.extraction.meetings[0].date is None
    assert any("'МОСКВА, 20 марта' names no year" in w for w in result.warnings)


def test_baseline_resolves_it_with_published_given_in_python():
    import datetime as dt

    article = llm_extract.load_article(YESTERDAY, published=dt.date(2026, 3, 5))
    [result] = llm_extract.extract([article], model="baseline")
    assert result.extraction.meetings[0].date.start == "2026-03-04"
    assert not result.warnings


def test_model_guess_for_a_relative_date_is_left_open_with_the_words_kept(server):
    dated = answer(
        date={"start": "2026-01-14", "text": "вчера"},
        evidence=[{"text": "Юрий Ушаков провёл в Женеве переговоры"}],
    )
    server.responder = lambda request: completion(tool=dated)
    [result] = llm_extract.extract(
        [llm_extract.load_article(ARTICLE)], model="fixture-loopback", base_url=server.url
    )
    assert result.status == "ok", result.error
    assert result.extraction.meetings[0].date is None
    assert any("the date 'вчера' is relative" in w for w in result.warnings)


def test_folder_run_says_what_it_skipped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(YESTERDAY, "utf-8")
    (folder / "scan.png").write_bytes(b"\x89PNG")
    (folder / "notes.xlsx").write_bytes(b"PK")
    (folder / "README").write_text("x", "utf-8")
    result = runner.invoke(app, ["extract", str(folder), "-m", "baseline"])
    assert result.exit_code == 0, result.output
    assert "skipped 3 files that are not articles (1 .png, 1 .xlsx, 1 no suffix)" in result.stderr


def test_a_finished_resume_says_nothing_to_do_without_loading_natasha(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(YESTERDAY, "utf-8")
    out = tmp_path / "r.jsonl"
    llm_extract.extract([article], model="baseline", out=out, progress=False)
    script = (
        "import sys\nfrom typer.testing import CliRunner\nfrom llm_extract.cli import app\n"
        f"r = CliRunner().invoke(app, ['extract', {str(article)!r}, '-m', 'baseline', "
        f"'--out', {str(out)!r}])\n"
        "print(r.exit_code, 'natasha' in sys.modules)\nprint(r.stderr)\nprint(r.stdout)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    code, natasha_loaded = done.stdout.splitlines()[0].split()
    assert (code, natasha_loaded) == ("0", "False"), done.stdout + done.stderr
    assert "nothing to do, all 1 articles are done" in done.stdout


def test_status_line_when_not_a_terminal(tmp_path, caplog):
    for name in ("a", "b"):
        (tmp_path / f"{name}.txt").write_text(YESTERDAY, "utf-8")
    with caplog.at_level("WARNING", logger="llm_extract"):
        llm_extract.extract([tmp_path], model="baseline", status_every=0)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("extract ")]
    assert lines[0].startswith("extract baseline: 1/2 done, 0 failed, ")
    assert lines[-1].startswith("extract baseline: 2/2 done, 0 failed, ")
    assert "articles/s, ETA " in lines[-1]


def test_a_folder_run_names_the_subfolders_it_does_not_read(tmp_path):
    folder = tmp_path / "articles"
    for split in ("dev", "test"):
        (folder / split).mkdir(parents=True)
        (folder / split / "x.txt").write_text(YESTERDAY, "utf-8")
    (folder / "README.md").write_text(YESTERDAY, "utf-8")
    (folder / "index.csv").write_text("a,b\n", "utf-8")
    result = runner.invoke(app, ["extract", str(folder), "-m", "baseline", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert "skipped 1 files that are not articles (1 .csv)" in result.stderr
    assert "skipped 2 subfolders (dev, test)" in result.stderr
    assert "name them or use a glob" in result.stderr
    assert [json.loads(line)["article_id"] for line in result.stdout.splitlines()] == ["README"]


def test_a_folder_of_subfolders_only_says_they_are_not_read(tmp_path):
    (tmp_path / "articles" / "dev").mkdir(parents=True)
    (tmp_path / "articles" / "dev" / "x.txt").write_text(YESTERDAY, "utf-8")
    result = runner.invoke(app, ["extract", str(tmp_path / "articles"), "-m", "baseline"])
    assert result.exit_code != 0
    said = " ".join(result.output.split())
    assert "its subfolders are not read: name them or use a glob" in said


def test_dates_rows_that_match_no_article_are_named(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(YESTERDAY, "utf-8")
    dates = tmp_path / "dates.csv"
    dates.write_text("file,published\nin/a.txt,2026-03-01\nin/aa.txt,2026-03-02\nb,2026-03-03\n")
    result = runner.invoke(app, ["extract", str(folder), "-m", "baseline", "--dates", str(dates)])
    assert result.exit_code == 0, result.output
    assert "dates given for 2 files that are not among this run's articles: aa, b" in result.stderr
    assert json.loads(result.stdout)[0]["published"] == "2026-03-01"
