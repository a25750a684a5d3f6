"""Review in the browser: each article's text with what a model found highlighted.

`build_view` reads one run of results (the JSONL of `extract`, or a run
folder), the article texts their offsets point into, and optionally the gold,
a second run and an events file; `render_view` turns that into one
self-contained HTML page. The page carries its data as JSON and draws one
article at a time, so a few thousand articles open about as fast as one.
Every string from an article or a model reaches the page through jinja2's
autoescape, JSON that escapes `<`, `>` and `&`, or the DOM's `textContent`:
never as markup.

Highlights are cut here: the spans of all records split the text into
segments, each listing the spans that cover it, innermost first, so that
overlaps stay readable (the innermost record colours the background, the
others underline it). The gold alignment and the differences between two runs
come from the scorer (`score_article`): the pairing shown is the pairing the
scores count.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from llm_extract.articles import load_article
from llm_extract.errors import ArticleError, ConfigError
from llm_extract.events import date_bounds
from llm_extract.results import gc_paused
from llm_extract.schemas import (
    ArticleExtraction,
    Event,
    Evidence,
    ExtractionResult,
    MatchKind,
    Meeting,
    Participant,
    Position,
)
from llm_extract.score import (
    ArticleScore,
    Prediction,
    Scorecard,
    gold_digest,
    load_gold,
    load_predictions,
    score_article,
)

__all__ = ["View", "build_view", "load_events", "render_view", "segments", "write_view"]

_RUN_KEYS = ("a", "b")
"""Span and card keys start with the run they belong to (`a:m0.1`), or `g` for the gold."""

_GOLDEN_ANGLE = 137.508
"""Successive records' hues this far apart on the colour wheel stay distinguishable."""
_FIRST_HUE = 200
"""Records start at blue: red is the gold's."""


@dataclass
class View:
    """Everything the page shows, as JSON-ready data."""

    title: str
    runs: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    gold: dict[str, Any] | None = None
    timeline: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    made: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
    version: str = field(default_factory=lambda: version("llm-extract"))

    def data(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "runs": self.runs,
            "gold": self.gold,
            "articles": self.articles,
            "timeline": self.timeline,
            "warnings": self.warnings,
        }


# --------------------------------------------------------------------------- reading


@dataclass
class _Run:
    name: str
    path: Path
    predictions: dict[str, Prediction]


def _read_run(path: Path) -> _Run:
    """A results JSONL (its bad lines as `results.iter_results` says), a run folder or a
    folder of `<article id>.json` (a bad file kept as a failed prediction)."""
    if not path.exists():
        raise ConfigError(f"{path}: no such results file or run folder")
    folder = path / "predictions" if (path / "predictions").is_dir() else path
    predictions = load_predictions(folder)
    if not predictions:
        raise ConfigError(
            f"{path}: no results in it; expected the JSONL of `llm-extract extract --results` "
            "or a run folder from `llm-extract eval`"
        )
    models = sorted({p.result.model for p in predictions.values() if p.result is not None})
    meta = path / "run.json"
    if meta.is_file():
        name = json.loads(meta.read_text("utf-8")).get("name") or path.name
    else:
        name = models[0] if len(models) == 1 else path.stem
    return _Run(name, path, predictions)


class _Texts:
    """Article texts by where they are found: each file is read once for both runs."""

    def __init__(self, articles: Path | None, results: Sequence[Path]) -> None:
        self.articles = articles
        self.bases = list(dict.fromkeys(p.parent if p.is_file() else p for p in results))
        self.read: dict[Path, str | ArticleError] = {}

    def candidates(self, article_id: str, source: str | None) -> list[Path]:
        found: list[Path] = []
        if self.articles is not None:
            found += sorted(self.articles.glob(f"{_glob_escape(article_id)}.*"))
        if source and not source.startswith("<"):
            path = Path(source)
            found.append(path)
            if not path.is_absolute():
                found += [base / path for base in self.bases]
        return found

    def get(self, article_id: str, source: str | None) -> tuple[str | None, str | None]:
        """The text and None, or None and why there is none."""
        paths = [p for p in self.candidates(article_id, source) if p.is_file()]
        if not paths:
            where = f"{source} " if source else ""
            hint = "" if self.articles else "; pass --articles with the folder of the texts"
            return None, f"article text not found ({where}for {article_id}){hint}"
        path = paths[0].resolve()
        if path not in self.read:
            try:
                self.read[path] = load_article(path).text
            except ArticleError as err:
                self.read[path] = err
        text = self.read[path]
        return (None, str(text)) if isinstance(text, ArticleError) else (text, None)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# --------------------------------------------------------------------------- highlights


def segments(spans: Iterable[tuple[int, int, str, bool]]) -> list[list[Any]]:
    """Cut covered text into `[start, end, span ids innermost first, fuzzy]` pieces.

    Each span is (start, end, id, fuzzy). A piece is covered by the same spans
    throughout; uncovered text gets no piece. Innermost: the shortest span, so
    a short quote inside a long one keeps its own colour.
    """
    spans = sorted(spans)
    if not spans:
        return []
    points = sorted({p for s in spans for p in (s[0], s[1])})
    out: list[list[Any]] = []
    active: list[tuple[int, int, str, bool]] = []
    i = 0
    for left, right in itertools.pairwise(points):
        while i < len(spans) and spans[i][0] <= left:
            active.append(spans[i])
            i += 1
        active = [s for s in active if s[1] > left]
        if not active:
            continue
        covering = sorted(active, key=lambda s: (s[1] - s[0], s[0], s[2]))
        piece = [left, right, [s[2] for s in covering], any(s[3] for s in covering)]
        if out and out[-1][1] == left and out[-1][2] == piece[2] and out[-1][3] == piece[3]:
            out[-1][1] = right
        else:
            out.append(piece)
    return out


def _utf16(text: str, pieces: list[list[Any]]) -> list[list[Any]]:
    """Offsets in UTF-16 code units, which the browser's strings count: a character
    outside the Basic Multilingual Plane (an emoji) is two of them, one in Python."""
    if not text or max(text) <= "\uffff":
        return pieces
    units = [0]
    for char in text:
        units.append(units[-1] + (2 if char > "\uffff" else 1))
    for piece in pieces:
        piece[0], piece[1] = units[piece[0]], units[piece[1]]
    return pieces


def _evidence_of(record: Meeting | Position) -> list[tuple[str, Evidence]]:
    items = [(f"e{i}", e) for i, e in enumerate(record.evidence)]
    if isinstance(record, Position) and record.quote is not None:
        items.append(("q", record.quote))
    return items


def _placement(evidence: Evidence, text: str | None) -> str | None:
    """Why a span cannot be highlighted, or None when it can."""
    if evidence.start is None or evidence.end is None:
        return "not found in the article"
    if text is None:
        return "no article text"
    if text[evidence.start : evidence.end] != evidence.text:
        return "offsets do not match the article text (changed since extraction?)"
    return None


# --------------------------------------------------------------------------- cards


def _person(person: Participant) -> str:
    return f"{person.name} — {person.role}" if person.role else person.name


def _meeting_title(meeting: Meeting) -> str:
    sides = "–".join(d.label for d in meeting.delegations)
    where = meeting.location.place if meeting.location and meeting.location.place else None
    when = meeting.date.start if meeting.date else None
    heads = ", ".join(d.head.name for d in meeting.delegations if d.head)
    bits = [meeting.status.value, when, where, sides or None, heads or None]
    return " · ".join(b for b in bits if b)


def _position_title(position: Position) -> str:
    holder = position.holder.name if position.holder else position.side
    return f"{holder}: {position.stance.value} — {position.issue}"


def _meeting_rows(meeting: Meeting) -> list[list[str]]:
    rows = [["status", meeting.status.value]]
    if meeting.format:
        rows.append(["format", meeting.format.value.replace("_", " ")])
    if meeting.date:
        d = meeting.date
        when = f"{d.start} – {d.end}" if d.end else d.start
        when += f" ({d.precision.value})"
        rows.append(["date", f"{when}, the article: «{d.text}»" if d.text else when])
    if meeting.location:
        loc = meeting.location
        place = ", ".join(x for x in (loc.place, loc.country) if x)
        rows.append(["place", " · ".join(x for x in (place, loc.venue) if x)])
    for d in meeting.delegations:
        people = ([f"head: {_person(d.head)}"] if d.head else []) + [_person(m) for m in d.members]
        rows.append([d.label, "; ".join(people) or "nobody named"])
    if meeting.topics:
        rows.append(["topics", "; ".join(meeting.topics)])
    if meeting.outcomes:
        rows.append(["outcomes", "; ".join(meeting.outcomes)])
    return rows


def _position_rows(position: Position) -> list[list[str]]:
    rows = []
    if position.holder:
        rows.append(["holder", _person(position.holder)])
    if position.side:
        rows.append(["side", position.side])
    rows += [
        ["stance", position.stance.value],
        ["issue", position.issue],
        ["speech", position.speech.value],
        ["summary", position.summary],
    ]
    return rows


def _cards(
    prefix: str, extraction: ArticleExtraction | None, text: str | None
) -> tuple[list[dict[str, Any]], list[tuple[int, int, str, bool]]]:
    """Record cards and the spans to highlight; keys `<prefix>:m<i>` and `<prefix>:p<i>`."""
    if extraction is None:
        return [], []
    cards, spans = [], []
    records: list[tuple[str, Meeting | Position]] = [
        (f"m{i}", m) for i, m in enumerate(extraction.meetings)
    ]
    records += [(f"p{i}", p) for i, p in enumerate(extraction.positions)]
    for n, (local, record) in enumerate(records):
        key = f"{prefix}:{local}"
        evidence = []
        for tag, e in _evidence_of(record):
            why = _placement(e, text)
            span_id = f"{key}.{tag}"
            fuzzy = e.match == MatchKind.FUZZY
            if why is None and e.start is not None and e.end is not None:
                spans.append((e.start, e.end, span_id, fuzzy))
            evidence.append(
                {
                    "id": span_id,
                    "text": e.text,
                    "quote": tag == "q",
                    "match": e.match.value if e.match else None,
                    "unplaced": why,
                }
            )
        meeting = isinstance(record, Meeting)
        cards.append(
            {
                "key": key,
                "type": "meeting" if meeting else "position",
                "hue": round((_FIRST_HUE + n * _GOLDEN_ANGLE) % 360, 1),
                "title": _meeting_title(record) if meeting else _position_title(record),  # type: ignore[arg-type]
                "rows": _meeting_rows(record) if meeting else _position_rows(record),  # type: ignore[arg-type]
                "evidence": evidence,
            }
        )
    return cards, spans


# --------------------------------------------------------------------------- alignment


def _record_key(prefix: str, rtype: str, index: int) -> str:
    return f"{prefix}:{rtype[0]}{index}"


def _errors_by_pair(score: ArticleScore) -> dict[tuple[str, int, int], list[dict[str, str]]]:
    out: dict[tuple[str, int, int], list[dict[str, str]]] = {}
    for e in score.errors:
        if e.pair is None:
            continue
        out.setdefault((e.record_type, *e.pair), []).append(
            {"field": e.field, "kind": e.kind, "gold": e.gold, "predicted": e.predicted}
        )
    return out


def _aligned(score: ArticleScore, ref: str, run: str) -> dict[str, dict[str, Any]]:
    """Per card key, what the scorer paired it with: the reference side is `ref` (gold or run A)."""
    errors = _errors_by_pair(score)
    states: dict[str, dict[str, Any]] = {}
    for rtype, alignment in score.alignment.items():
        for i, j, similarity in alignment.pairs:
            ref_key, run_key = _record_key(ref, rtype, i), _record_key(run, rtype, j)
            wrong = errors.get((rtype, i, j), [])
            states[run_key] = {
                "state": "matched",
                "with": ref_key,
                "similarity": round(similarity, 2),
                "errors": wrong,
            }
            states[ref_key] = {"state": "matched", "with": run_key}
        for i in alignment.missed:
            states[_record_key(ref, rtype, i)] = {"state": "missed"}
        for j in alignment.spurious:
            states[_record_key(run, rtype, j)] = {"state": "spurious"}
    return states


def _mark_differences(panes: Sequence[dict[str, Any]], preds: Sequence[Prediction]) -> int:
    """Align run B's records to run A's with the scorer; returns how many records differ.

    A matched pair is `same` when no field differs, else `differs`; a record of one
    run with no partner in the other is `only`. A record that differs counts once.
    """
    base, other = preds
    states = _aligned(score_article(base.extraction or ArticleExtraction(), other), "a", "b")
    for key, state in states.items():
        if state["state"] == "matched":
            partner = state if key.startswith("b:") else states[state["with"]]
            state["state"] = "differs" if partner["errors"] else "same"
        else:
            state["state"] = "only"
    for pane, prefix in zip(panes, _RUN_KEYS, strict=True):
        pane["diff"] = {k: v for k, v in states.items() if k.startswith(f"{prefix}:")}
    return sum(
        v["state"] != "same" if k.startswith("b:") else v["state"] == "only"
        for k, v in states.items()
    )


def _article_scores(score: ArticleScore) -> dict[str, Any]:
    card = Scorecard([score])
    return {
        "meetings": card.total("meetings.record").f1,
        "positions": card.total("positions.record").f1,
        "fields": card.micro().f1,
        "missed": len(score.missed),
        "spurious": len(score.spurious),
        "errors": len(score.errors),
    }


def _run_totals(scores: Sequence[ArticleScore]) -> dict[str, Any]:
    card = Scorecard(list(scores))
    return {
        "meetings": card.total("meetings.record").f1,
        "meetings_strict": card.total("meetings.record_strict").f1,
        "positions": card.total("positions.record").f1,
        "positions_strict": card.total("positions.record_strict").f1,
        "fields": card.micro().f1,
        "faithful": card.faithfulness()["rate"],
    }


# --------------------------------------------------------------------------- build


def _facets(extractions: Iterable[ArticleExtraction | None]) -> dict[str, list[str]]:
    sides: set[str] = set()
    people: set[str] = set()
    for extraction in extractions:
        if extraction is None:
            continue
        for meeting in extraction.meetings:
            for d in meeting.delegations:
                if d.side:
                    sides.add(d.side)
                people.update(p.name for p in ([d.head] if d.head else []) + d.members)
        for position in extraction.positions:
            if position.side:
                sides.add(position.side)
            if position.holder:
                people.add(position.holder.name)
    return {"sides": sorted(sides), "people": sorted(people)}


def _run_article(
    prefix: str, prediction: Prediction | None, text: str | None
) -> tuple[dict[str, Any], list[tuple[int, int, str, bool]]]:
    if prediction is None:
        return {"status": "absent", "cards": []}, []
    result = prediction.result
    cards, spans = _cards(prefix, prediction.extraction, text)
    entry: dict[str, Any] = {
        "status": "ok" if prediction.valid else "failed",
        "model": result.model if result else None,
        "failure": result.failure if result else None,
        "error": prediction.error,
        "warnings": list(result.warnings) if result else [],
        "reasks": prediction.reasks,
        "meetings": len(prediction.extraction.meetings) if prediction.extraction else 0,
        "positions": len(prediction.extraction.positions) if prediction.extraction else 0,
        "cards": cards,
    }
    return entry, spans


def _source(prediction: Prediction | None) -> str | None:
    return prediction.result.source if prediction and prediction.result else None


def _published(prediction: Prediction | None) -> str | None:
    result: ExtractionResult | None = prediction.result if prediction else None
    return result.published.isoformat() if result and result.published else None


@gc_paused()
def build_view(
    results: Path,
    *,
    gold: Path | None = None,
    against: Path | None = None,
    events: Path | None = None,
    articles: Path | None = None,
    title: str | None = None,
) -> View:
    """Read a run (and optionally the gold, a second run, an events file) into a `View`.

    Texts are found at each result's `source`, relative to the working folder or
    the results file, or as `<articles>/<article id>.*`.
    """
    runs = [_read_run(results)] + ([_read_run(against)] if against else [])
    if against and runs[0].name == runs[1].name:
        runs[0].name, runs[1].name = str(results), str(against)
    expected = load_gold(gold) if gold else None
    texts = _Texts(articles, [r.path for r in runs])
    ids = list(dict.fromkeys(i for r in runs for i in sorted(r.predictions)))
    run_scores: list[list[ArticleScore]] = [[] for _ in runs]
    out = []
    warnings = []
    for article_id in ids:
        preds = [r.predictions.get(article_id) for r in runs]
        source = next((s for s in map(_source, preds) if s), None)
        text, text_error = texts.get(article_id, source)
        panes, spans = zip(
            *(_run_article(k, p, text) for k, p in zip(_RUN_KEYS, preds, strict=False)),
            strict=True,
        )
        article: dict[str, Any] = {
            "id": article_id,
            "source": source,
            "published": next((d for d in map(_published, preds) if d), None),
            "text": text,
            "text_error": text_error,
            "runs": list(panes),
            "events": [],
        }
        gold_spans: list[tuple[int, int, str, bool]] = []
        reference = expected.get(article_id) if expected is not None else None
        article["facets"] = _facets([*(p.extraction for p in preds if p), reference])
        if reference is not None:
            gold_cards, gold_spans = _cards("g", reference, text)
            article["gold"] = {"cards": gold_cards}
            for n, (pane, pred) in enumerate(zip(panes, preds, strict=True)):
                if pred is None:
                    continue
                score = score_article(reference, pred, text)
                run_scores[n].append(score)
                pane["gold"] = _aligned(score, "g", _RUN_KEYS[n])
                pane["scores"] = _article_scores(score)
        if against and all(preds):
            article["differ"] = _mark_differences(panes, preds)  # type: ignore[arg-type]
        for pane, own in zip(panes, spans, strict=True):
            pane["segments"] = _utf16(text or "", segments([*own, *gold_spans]))
        out.append(article)
    gold_info = None
    if expected is not None and gold is not None:
        unscored = sorted(set(expected) - set(ids))
        if unscored:
            warnings.append(
                f"{len(unscored)} gold articles have no result and are not shown: "
                + ", ".join(unscored[:10])
                + (" …" if len(unscored) > 10 else "")
            )
        gold_info = {
            "path": str(gold),
            "digest": gold_digest(gold),
            "articles": len(expected),
            "meetings": sum(len(g.meetings) for g in expected.values()),
            "positions": sum(len(g.positions) for g in expected.values()),
        }
    missing = sum(a["text"] is None for a in out)
    if missing:
        warnings.append(f"{missing} articles have no text here; their records are listed unplaced")
    run_info = []
    for n, run in enumerate(runs):
        preds = list(run.predictions.values())
        info: dict[str, Any] = {
            "key": _RUN_KEYS[n],
            "name": run.name,
            "path": str(run.path),
            "articles": len(preds),
            "failed": sum(not p.valid for p in preds),
        }
        if expected is not None:
            info["scores"] = _run_totals(run_scores[n])
        run_info.append(info)
    view = View(
        title=title or f"llm-extract view: {' vs '.join(r.name for r in runs)}",
        runs=run_info,
        articles=out,
        gold=gold_info,
        warnings=warnings,
    )
    if events is not None:
        view.timeline = load_events(events, {a["id"]: a for a in out})
    return view


# --------------------------------------------------------------------------- events


_TIMELINE_WIDTH = 1100
_TIMELINE_LEFT = 70
_TIMELINE_ROW = 34
_UNDATED = 60
"""Pixels at the right for events without a date."""


def load_events(path: Path, articles: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The events of `llm-extract events --out` laid out as a timeline by date and side.

    Each article in `articles` learns the events it reports (its `events` list); an
    event's sources that are not in the view are listed, without a link.
    """
    if not path.is_file():
        raise ConfigError(f"{path}: no such events file; write one with `llm-extract events`")
    events = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            events.append(Event.model_validate_json(line))
        except ValueError as err:
            first = str(err).splitlines()[0]
            raise ConfigError(
                f"{path}:{number}: not an event of `llm-extract events --out`: {first}"
            ) from None
    return _timeline(events, articles)


def _timeline(events: Sequence[Event], articles: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    dated = [date_bounds(e.date) for e in events if e.date]
    first = min((d[0] for d in dated), default=None)
    last = max((d[1] for d in dated), default=None)
    span = max(((last - first).days if first and last else 0), 1)
    counts: dict[str, int] = {}
    for event in events:
        for side in event.sides:
            counts[side] = counts.get(side, 0) + 1
    sides = sorted(counts, key=lambda s: (-counts[s], s))
    plot = _TIMELINE_WIDTH - _TIMELINE_LEFT - _UNDATED - 20
    out = []
    for event in events:
        if event.date and first:
            lo, hi = date_bounds(event.date)
            x = _TIMELINE_LEFT + 10 + plot * ((lo - first).days + (hi - lo).days / 2) / span
        else:
            x = _TIMELINE_WIDTH - _UNDATED / 2
        rows = sorted(sides.index(s) for s in event.sides)
        sources = []
        for m in event.mentions:
            shown = m.article_id in articles
            if shown and event.id not in articles[m.article_id]["events"]:
                articles[m.article_id]["events"].append(event.id)
            sources.append(
                {
                    "article": m.article_id,
                    "key": f"a:m{m.meeting_index}",
                    "published": m.published.isoformat() if m.published else None,
                    "status": m.status.value,
                    "shown": shown,
                    "quote": m.evidence[0].text if m.evidence else None,
                }
            )
        heads = [p.name for p in event.participants if p.head]
        where = event.place.place if event.place and event.place.place else None
        out.append(
            {
                "id": event.id,
                "x": round(x, 1),
                "rows": rows,
                "r": 5 + 2 * min(event.sources, 4),
                "status": event.status.value,
                "title": " · ".join(
                    b
                    for b in (
                        _event_date(event),
                        where,
                        "–".join(event.sides),
                        ", ".join(heads) or None,
                        event.status.value,
                    )
                    if b
                ),
                "history": [
                    [h.status.value, h.published.isoformat() if h.published else None, h.article_id]
                    for h in event.status_history
                ],
                "participants": [p.name for p in event.participants],
                "conflicts": event.conflicts,
                "sources": sources,
            }
        )
    ticks = []
    if first and last:
        month = dt.date(first.year, first.month, 1)
        while month <= last:
            if month >= first:
                x = _TIMELINE_LEFT + 10 + plot * (month - first).days / span
                ticks.append({"x": round(x, 1), "label": month.strftime("%Y-%m")})
            month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if not ticks:
            ticks.append({"x": _TIMELINE_LEFT + 10, "label": first.isoformat()})
    return {
        "events": out,
        "sides": sides,
        "ticks": ticks,
        "width": _TIMELINE_WIDTH,
        "left": _TIMELINE_LEFT,
        "row": _TIMELINE_ROW,
        "height": _TIMELINE_ROW * max(len(sides), 1) + 44,
        "undated": any(e.date is None for e in events),
        "undated_x": _TIMELINE_WIDTH - _UNDATED / 2,
    }


def _event_date(event: Event) -> str | None:
    if event.date is None:
        return None
    when = f"{event.date.start} – {event.date.end}" if event.date.end else event.date.start
    return f"{when} (sources disagree)" if event.date_conflict else when


# --------------------------------------------------------------------------- page


def _asset(name: str) -> str:
    return files("llm_extract").joinpath(f"templates/{name}").read_text("utf-8")


def _script_json(data: Any) -> str:
    """JSON safe inside `<script>`: `<`, `>`, `&` and `'` escaped, so no text from an
    article can close the element. Not ASCII-escaped: Cyrillic as `\\u0418` took three
    times the bytes, and the browser's time to open the page grows with them."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return text


def render_view(view: View) -> str:
    """The page: one HTML file with its CSS, script and data inline."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["f2"] = lambda x: "—" if x is None else f"{x:.2f}"
    row = view.timeline["row"] if view.timeline else 0
    env.filters["multiply_row"] = lambda index: index * row + row / 2 + 4
    template = env.from_string(_asset("view.html.j2"))
    return template.render(
        view=view,
        data=_script_json(view.data()),
        css=_asset("view.css"),
        script=_asset("view.js"),
    )


def write_view(out: Path, view: View) -> Path:
    """Write the page to `out` (its folder created); returns `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_view(view), encoding="utf-8")
    return out
