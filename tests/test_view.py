"""The review page's data and HTML: highlights cut at the right offsets, the scorer's
alignment shown as it counted, two runs told apart, everything escaped, bad input refused.

What the page does in a browser is tested in test_view_browser.py.
"""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llm_extract.articles import load_article
from llm_extract.cli import app
from llm_extract.errors import ConfigError
from llm_extract.view import build_view, render_view, segments

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "evals" / "gold"
SEEDS = ROOT / "seeds"
KREMLIN = "000_5fadb3ca50ee0a75"
"""fixture-sloppy invents a meeting here (Peskov's greeting) and misses two of the gold's."""
FAILED = "004_1ccdb289d609ce85"
"""fixture-sloppy's answer for this seed never validates."""


def article(view: Any, article_id: str) -> dict[str, Any]:
    return next(a for a in view.articles if a["id"] == article_id)


def page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="view-data">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


# --------------------------------------------------------------------------- segments


def test_segments_cut_overlaps_innermost_first() -> None:
    # a long span with a short one inside, and a third touching the end of the first
    pieces = segments(
        [(0, 10, "a:m0.e0", False), (3, 5, "a:p0.e0", True), (10, 12, "a:m1.e0", False)]
    )
    assert pieces == [
        [0, 3, ["a:m0.e0"], False],
        [3, 5, ["a:p0.e0", "a:m0.e0"], True],
        [5, 10, ["a:m0.e0"], False],
        [10, 12, ["a:m1.e0"], False],
    ]


def test_segments_leave_gaps_and_merge_equal_neighbours() -> None:
    pieces = segments([(5, 8, "x", False), (5, 8, "y", False), (20, 22, "z", False)])
    assert pieces == [[5, 8, ["x", "y"], False], [20, 22, ["z"], False]]
    assert segments([]) == []


def test_segments_of_partly_overlapping_spans() -> None:
    pieces = segments([(0, 6, "a", False), (4, 9, "b", False)])
    assert [p[:3] for p in pieces] == [[0, 4, ["a"]], [4, 6, ["b", "a"]], [6, 9, ["b"]]]


# --------------------------------------------------------------------------- one run


def test_every_span_covers_its_evidence_text(fixture_results: dict[str, Path]) -> None:
    view = build_view(fixture_results["fixture-careful"])
    assert len(view.articles) == 5
    for a in view.articles:
        text = a["text"]
        assert text == load_article(SEEDS / f"{a['id']}.txt").text
        evidence = {e["id"]: e for c in a["runs"][0]["cards"] for e in c["evidence"]}
        covered: dict[str, str] = {}
        for start, end, ids, _ in a["runs"][0]["segments"]:
            for span_id in ids:
                covered[span_id] = covered.get(span_id, "") + text[start:end]
        placed = {k: e for k, e in evidence.items() if not e["unplaced"]}
        assert placed and set(covered) == set(placed)
        for span_id, e in placed.items():
            assert covered[span_id] == e["text"]


def test_cards_show_what_a_record_says(fixture_results: dict[str, Path]) -> None:
    view = build_view(fixture_results["fixture-careful"])
    cards = article(view, KREMLIN)["runs"][0]["cards"]
    kremlin = cards[0]
    assert kremlin["key"] == "a:m0" and kremlin["type"] == "meeting"
    rows = dict(map(tuple, kremlin["rows"]))
    assert rows["status"] == "held" and "Москва" in rows["place"] and "Кремль" in rows["place"]
    assert "head: Владимир Путин" in rows["RU"] and "Стив Уиткофф" in rows["US"]
    assert "«" in rows["date"]  # the words the article used
    positions = [c for c in cards if c["type"] == "position"]
    assert positions and {"holder", "stance", "issue"} <= {r[0] for r in positions[0]["rows"]}
    assert len({c["hue"] for c in cards}) == len(cards)


def test_fuzzy_and_unplaced_evidence_are_marked(
    tmp_path: Path, fixture_results: dict[str, Path]
) -> None:
    line = json.loads(fixture_results["fixture-careful"].read_text("utf-8").splitlines()[0])
    meeting = line["extraction"]["meetings"][0]
    meeting["evidence"][0]["match"] = "fuzzy"
    meeting["evidence"].append({"text": "Этого нет в статье."})
    meeting["evidence"].append({"text": "не та строка", "start": 0, "end": 12, "match": "exact"})
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps(line, ensure_ascii=False) + "\n", "utf-8")
    view = build_view(results)
    run = view.articles[0]["runs"][0]
    evidence = run["cards"][0]["evidence"]
    assert evidence[0]["match"] == "fuzzy" and evidence[0]["unplaced"] is None
    assert evidence[-2]["unplaced"] == "not found in the article"
    assert "do not match the article text" in evidence[-1]["unplaced"]
    fuzzy = [p for p in run["segments"] if "a:m0.e0" in p[2]]
    assert fuzzy and all(p[3] for p in fuzzy)
    assert not any(evidence[-1]["id"] in p[2] for p in run["segments"])


def test_offsets_are_utf16_units_after_an_emoji(tmp_path: Path) -> None:
    """The browser counts a character outside the BMP as two: spans after one must shift."""
    text = "🙂 Путин встретился с Уиткоффом в Кремле."
    (tmp_path / "emoji.txt").write_text(text, "utf-8")
    quote = "Путин встретился с Уиткоффом"
    start = text.index(quote)
    result = {
        "article_id": "emoji",
        "source": str(tmp_path / "emoji.txt"),
        "model": "fixture-hand",
        "status": "ok",
        "extraction": {
            "meetings": [
                {
                    "status": "held",
                    "delegations": [{"side": "RU"}, {"side": "US"}],
                    "evidence": [
                        {"text": quote, "start": start, "end": start + len(quote), "match": "exact"}
                    ],
                }
            ]
        },
    }
    (tmp_path / "r.jsonl").write_text(json.dumps(result, ensure_ascii=False) + "\n", "utf-8")
    [piece] = build_view(tmp_path / "r.jsonl").articles[0]["runs"][0]["segments"]
    units = text.encode("utf-16-le")
    assert units[piece[0] * 2 : piece[1] * 2].decode("utf-16-le") == quote


def test_a_failed_article_shows_its_failure(fixture_results: dict[str, Path]) -> None:
    view = build_view(fixture_results["fixture-sloppy"])
    run = article(view, FAILED)["runs"][0]
    assert run["status"] == "failed" and run["failure"] == "schema"
    assert run["error"] and run["cards"] == [] and run["segments"] == []
    assert article(view, FAILED)["text"]  # the text is still there to read
    assert view.runs[0]["failed"] == 1


def test_facets_list_sides_and_people(fixture_results: dict[str, Path]) -> None:
    facets = article(build_view(fixture_results["fixture-careful"]), KREMLIN)["facets"]
    assert {"RU", "US"} <= set(facets["sides"])
    assert "Владимир Путин" in facets["people"]


# --------------------------------------------------------------------------- gold


def test_gold_alignment_is_the_scorers(fixture_results: dict[str, Path]) -> None:
    view = build_view(fixture_results["fixture-sloppy"], gold=GOLD)
    kremlin = article(view, KREMLIN)
    marks = kremlin["runs"][0]["gold"]
    assert marks["a:m3"] == {"state": "spurious"}  # Peskov greeting the Americans
    assert "Песков" in kremlin["runs"][0]["cards"][3]["title"]
    assert marks["g:m2"] == {"state": "missed"} and marks["g:m3"] == {"state": "missed"}
    assert "Абу-Даби" in kremlin["gold"]["cards"][2]["title"]
    matched = marks["a:m0"]
    assert matched["state"] == "matched" and matched["with"] == "g:m0"
    assert marks["g:m0"]["with"] == "a:m0"
    assert any(e["field"] == "date" and e["kind"] == "partial" for e in matched["errors"])
    scores = kremlin["runs"][0]["scores"]
    # Missed: the two meetings above and seed 000's RU and US support for the agreed coordination.
    assert (scores["missed"], scores["spurious"]) == (4, 1)
    # Missed gold spans are in the text too, under their own keys.
    assert any(i.startswith("g:m2.") for p in kremlin["runs"][0]["segments"] for i in p[2])
    # A failed article: every gold record missed.
    failed = article(view, FAILED)["runs"][0]
    assert all(v["state"] == "missed" for k, v in failed["gold"].items())
    assert len(failed["gold"]) == len(article(view, FAILED)["gold"]["cards"])
    assert view.gold and view.gold["meetings"] == 17 and len(view.gold["digest"]) == 12


def test_run_totals_agree_with_score(fixture_results: dict[str, Path]) -> None:
    from llm_extract.evaluation import load_run

    view = build_view(fixture_results["fixture-sloppy"], gold=GOLD)
    run = load_run(fixture_results["fixture-sloppy"], gold=GOLD, articles=SEEDS)
    totals = view.runs[0]["scores"]
    assert totals["fields"] == run.card.micro().f1
    assert totals["meetings"] == run.card.total("meetings.record").f1


def test_gold_articles_without_a_result_are_named(
    tmp_path: Path, fixture_results: dict[str, Path]
) -> None:
    lines = fixture_results["fixture-careful"].read_text("utf-8").splitlines()
    (tmp_path / "two.jsonl").write_text("\n".join(lines[:2]) + "\n", "utf-8")
    view = build_view(tmp_path / "two.jsonl", gold=GOLD)
    assert len(view.articles) == 2
    assert any("3 gold articles have no result" in w for w in view.warnings)


# --------------------------------------------------------------------------- two runs


def test_against_marks_records_that_differ(fixture_results: dict[str, Path]) -> None:
    view = build_view(fixture_results["fixture-sloppy"], against=fixture_results["fixture-careful"])
    assert [r["name"] for r in view.runs] == ["fixture-sloppy", "fixture-careful"]
    kremlin = article(view, KREMLIN)
    a, b = kremlin["runs"]
    assert a["diff"]["a:m3"]["state"] == "only"  # the invented meeting
    assert a["diff"]["a:m0"]["state"] == "differs" and a["diff"]["a:m0"]["with"] == "b:m0"
    assert any(e["field"] == "date" for e in b["diff"]["b:m0"]["errors"])  # kept on B's side
    assert b["diff"]["b:m0"]["with"] == "a:m0"
    assert kremlin["differ"] > 0
    failed = article(view, FAILED)
    assert failed["runs"][0]["status"] == "failed"
    assert all(v["state"] == "only" for v in failed["runs"][1]["diff"].values())
    # A run against itself differs nowhere.
    same = build_view(
        fixture_results["fixture-careful"], against=fixture_results["fixture-careful"]
    )
    assert all(a["differ"] == 0 for a in same.articles)
    assert all(
        s["state"] == "same" for a in same.articles for r in a["runs"] for s in r["diff"].values()
    )


# --------------------------------------------------------------------------- the page


INJECTED = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


def test_page_escapes_article_and_model_text(tmp_path: Path) -> None:
    text = f"Заголовок {INJECTED} и конец.\n"
    (tmp_path / "evil.txt").write_text(text, "utf-8")
    loaded = load_article(tmp_path / "evil.txt").text
    start = loaded.index("<script>")
    result = {
        "article_id": "evil",
        "source": str(tmp_path / "evil.txt"),
        "model": "fixture-markup",
        "status": "ok",
        "warnings": [INJECTED],
        "extraction": {
            "positions": [
                {
                    "holder": {"name": "Иван <b>Петров</b>"},
                    "issue": INJECTED,
                    "stance": "oppose",
                    "summary": "x",
                    "speech": "reported",
                    "evidence": [
                        {
                            "text": loaded[start : start + 30],
                            "start": start,
                            "end": start + 30,
                            "match": "exact",
                        }
                    ],
                }
            ]
        },
    }
    (tmp_path / "r.jsonl").write_text(json.dumps(result, ensure_ascii=False) + "\n", "utf-8")
    html = render_view(build_view(tmp_path / "r.jsonl", title=f"review {INJECTED}"))
    # The data block holds no markup: `<` is escaped, so no tag can close the script.
    block = html.split('<script type="application/json" id="view-data">', 1)[1]
    block = block.split("</script>", 1)[0]
    assert "<" not in block and ">" not in block
    assert page_data(html)["articles"][0]["text"] == loaded
    assert page_data(html)["articles"][0]["runs"][0]["warnings"] == [INJECTED]
    # The title went through autoescape; the only scripts are the data and our own.
    assert "<img" not in html and "<script>window" not in html
    assert html.count("<script") == 2
    assert "review &lt;/script&gt;&lt;script&gt;window.pwned = 1" in html
    # Self-contained: nothing fetched from anywhere.
    assert not re.search(
        r"<(link|iframe)\b|<[a-z]+ [^>]*\bsrc=|@import|url\(|https?://", html.replace(block, "")
    )


def test_page_is_self_contained_and_carries_its_data(fixture_results: dict[str, Path]) -> None:
    html = render_view(build_view(fixture_results["fixture-sloppy"], gold=GOLD))
    data = page_data(html)
    assert [a["id"] for a in data["articles"]] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert "<style>" in html and "llmExtractView" in html
    assert not re.search(r"<(link|iframe)\b|<script [^>]*src=|@import|url\(", html)
    assert "digest" in html and "llm-extract 0.1.0" in html


# --------------------------------------------------------------------------- bad input


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such results file"):
        build_view(tmp_path / "nope.jsonl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no results in it"):
        build_view(tmp_path / "empty")
    (tmp_path / "r.jsonl").write_text("not json\nnot json either\n", "utf-8")
    with pytest.raises(ConfigError, match=r"r\.jsonl:1: not JSON"):  # the one reader's policy
        build_view(tmp_path / "r.jsonl")


def test_the_garbage_collector_is_left_as_it_was(
    tmp_path: Path, fixture_results: dict[str, Path]
) -> None:
    """The build pauses the cyclic collector; it is back as it was, also after an error."""
    assert gc.isenabled()
    build_view(fixture_results["fixture-sloppy"], gold=GOLD)
    assert gc.isenabled()
    with pytest.raises(ConfigError):
        build_view(tmp_path / "nope.jsonl")
    assert gc.isenabled()
    gc.disable()
    try:
        build_view(fixture_results["fixture-sloppy"])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_moved_article_is_found_with_articles_or_said_missing(
    tmp_path: Path, fixture_results: dict[str, Path]
) -> None:
    line = json.loads(fixture_results["fixture-careful"].read_text("utf-8").splitlines()[0])
    line["source"] = "/gone/elsewhere.txt"
    (tmp_path / "r.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", "utf-8")
    view = build_view(tmp_path / "r.jsonl")
    assert view.articles[0]["text"] is None and "--articles" in view.articles[0]["text_error"]
    assert all(e["unplaced"] for c in view.articles[0]["runs"][0]["cards"] for e in c["evidence"])
    assert any("no text here" in w for w in view.warnings)
    found = build_view(tmp_path / "r.jsonl", articles=SEEDS)
    assert found.articles[0]["text"] and found.articles[0]["runs"][0]["segments"]


def test_cli_writes_the_page(tmp_path: Path, fixture_results: dict[str, Path]) -> None:
    out = tmp_path / "deep" / "review.html"
    result = CliRunner().invoke(
        app,
        [
            "view",
            str(fixture_results["fixture-sloppy"]),
            "--gold",
            str(GOLD),
            "--against",
            str(fixture_results["fixture-careful"]),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr and "5 articles" in result.stderr
    data = page_data(out.read_text("utf-8"))
    assert len(data["runs"]) == 2 and data["gold"]["articles"] == 5
    missing = CliRunner().invoke(app, ["view", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "no such results file" in missing.stderr
    assert "Traceback" not in missing.output


def test_cli_takes_a_gold_set_by_name(tmp_path: Path, fixture_results: dict[str, Path]) -> None:
    """`--gold seeds` as `eval`, `score` and `compare` take it, not only a folder."""
    out = tmp_path / "review.html"
    args = ["view", str(fixture_results["fixture-sloppy"]), "--out", str(out), "--gold"]
    result = CliRunner().invoke(app, [*args, "seeds"])
    assert result.exit_code == 0, result.output
    assert page_data(out.read_text("utf-8"))["gold"]["articles"] == 5
    wrong = CliRunner().invoke(app, [*args, "sedes"])
    assert wrong.exit_code == 1 and "seeds, dev, test" in wrong.stderr


# --------------------------------------------------------------------------- events


def write_events(results: Path, out: Path) -> Path:
    """What `llm-extract events --out` writes: one Event per line."""
    from llm_extract.events import resolve_events
    from llm_extract.results import read_results

    events = resolve_events(read_results([results]).results)
    out.write_text("".join(e.model_dump_json() + "\n" for e in events), "utf-8")
    return out


def test_timeline_places_events_by_date_and_side(
    tmp_path: Path, fixture_results: dict[str, Path]
) -> None:
    events = write_events(fixture_results["fixture-careful"], tmp_path / "events.jsonl")
    count = len(events.read_text("utf-8").splitlines())
    view = build_view(fixture_results["fixture-careful"], events=events)
    timeline = view.timeline
    assert timeline and len(timeline["events"]) == count
    assert timeline["sides"][:2] in (["RU", "US"], ["US", "RU"])
    dated = sorted(
        (e for e in timeline["events"] if e["title"][:4].isdigit()), key=lambda e: e["title"]
    )
    xs = [e["x"] for e in dated]
    assert xs == sorted(xs)  # later dates further right
    assert all(timeline["left"] <= x <= timeline["width"] for x in xs)
    # Every source links back to its article's meeting, and each article lists its events.
    for event in timeline["events"]:
        for source in event["sources"]:
            assert source["shown"] and source["key"].startswith("a:m")
            assert event["id"] in article(view, source["article"])["events"]
    # The Miami meeting of 31 January is reported by two seeds: one event, two sources.
    assert any(len({s["article"] for s in e["sources"]}) == 2 for e in timeline["events"])
    html = render_view(view)
    assert html.count('data-event="ev-') == count
    assert 'role="img" aria-label="Timeline of events"' in html


def test_a_bad_events_file_names_its_line(tmp_path: Path, fixture_results: dict[str, Path]) -> None:
    events = write_events(fixture_results["fixture-careful"], tmp_path / "events.jsonl")
    events.write_text(events.read_text("utf-8") + '{"id": "x"}\n', "utf-8")
    bad_line = len(events.read_text("utf-8").splitlines())
    with pytest.raises(ConfigError, match=rf"events.jsonl:{bad_line}: not an event"):
        build_view(fixture_results["fixture-careful"], events=events)
    with pytest.raises(ConfigError, match="no such events file"):
        build_view(fixture_results["fixture-careful"], events=tmp_path / "none.jsonl")
