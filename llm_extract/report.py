"""Showing scores: rich tables for the terminal and one self-contained HTML page.

The HTML page carries its own CSS and no script, and draws its charts as
inline SVG; jinja2 autoescapes every value, so article text and model output
cannot inject markup. Likewise every
data value in a rich table (run and model names, article ids, field names,
warnings) is escaped, so a "[/b]" in one is shown, not read as markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from rich import box
from rich.markup import escape
from rich.table import Table

from llm_extract.compare import MIN_ARTICLES, Comparison, bootstrap_intervals
from llm_extract.evaluation import Run
from llm_extract.score import RECORD_TYPES, Scorecard, gold_digest

__all__ = [
    "comparison_table",
    "differing_table",
    "events_rows",
    "events_table",
    "fields_table",
    "languages_table",
    "leaderboard_rows",
    "leaderboard_table",
    "render_html",
]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def leaderboard_rows(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """One row per run, best field micro F1 first: the figures the leaderboard shows.

    Record F1 keys name their kind: `<records>_found_f1`, `_strict_f1`, `_soft_f1`
    (`meetings_f1` and `positions_f1` are the strict ones under their first name).
    `offline` runs (the baseline, fixture models) call no model: no tokens, no cost.
    """
    rows = []
    for run in runs:
        card, meta = run.card, run.meta
        validity = card.validity()
        row: dict[str, Any] = {
            "name": run.name,
            "model": meta.model,
            "fixture": meta.fixture,
            "offline": meta.offline,
            "articles": validity["articles"],
            "valid_rate": validity["valid_rate"],
            "reask_rate": validity["reask_rate"],
        }
        for rtype in ("meetings", "positions"):
            row[f"{rtype}_found_f1"] = card.total(f"{rtype}.record").f1
            row[f"{rtype}_strict_f1"] = card.total(f"{rtype}.record_strict").f1
            row[f"{rtype}_soft_f1"] = card.total(f"{rtype}.record_soft").f1
            row[f"{rtype}_f1"] = row[f"{rtype}_strict_f1"]
        row |= {
            "micro_f1": card.micro().f1,
            "faithfulness": card.faithfulness()["rate"],
            "tokens": meta.usage.total_tokens,
            "cost_usd": meta.cost_usd,
            "latency_s": meta.latency_s,
            "attempts": meta.attempts,
            "ungrounded": meta.ungrounded,
            "prompts": meta.prompts,
            "note": run.note,
        }
        rows.append(row)
    return sorted(rows, key=lambda r: -(r["micro_f1"] or 0.0))


_NOTE_MARK = "†"
_NA = "n/a"


def leaderboard_table(runs: Sequence[Run], gold: str | None = None) -> Table:
    """`gold` names the set in the title, so a saved table says what it was scored on."""
    rows = leaderboard_rows(runs)
    notes = list(dict.fromkeys(row["note"] for row in rows if row["note"]))
    caption = (
        "meetings, positions: record F1 found/strict (soft in the fields table); "
        "fields: micro F1; faithful: quotes found verbatim; n/a: offline, no model called"
    )
    for n, note in enumerate(notes, 1):
        caption += f"\n{_NOTE_MARK * n} {escape(note)}"
    title = f"Leaderboard on {gold}" if gold else "Leaderboard"
    table = Table(box=box.SIMPLE_HEAD, title=title, caption=caption)
    table.add_column("run", no_wrap=True)
    headers = (
        "valid", "re-ask", "meetings", "positions", "fields", "faithful", "tokens", "cost $",
        "time s",
    )  # fmt: skip
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        mark = f" {_NOTE_MARK * (notes.index(row['note']) + 1)}" if row["note"] else ""
        offline = row["offline"]
        table.add_row(
            escape(row["name"]) + mark,
            _pct(row["valid_rate"]),
            _pct(row["reask_rate"]),
            f"{_pct(row['meetings_found_f1'])}/{_pct(row['meetings_strict_f1'])}",
            f"{_pct(row['positions_found_f1'])}/{_pct(row['positions_strict_f1'])}",
            _pct(row["micro_f1"]),
            _pct(row["faithfulness"]),
            _NA if offline else f"{row['tokens']:,}",
            _NA if offline else "—" if row["cost_usd"] is None else f"{row['cost_usd']:.3g}",
            "—" if row["latency_s"] is None else f"{row['latency_s']:.1f}",
        )
    return table


def events_rows(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Per run with event gold: MUC, B³, CEAF-e (P/R/F1), their mean, and the event counts."""
    return [{"name": run.name, **run.events.to_dict()} for run in runs if run.events is not None]


def events_table(runs: Sequence[Run]) -> Table | None:
    """Event resolution against the cross-article gold, one line per run; None without that gold."""
    rows = events_rows(runs)
    if not rows:
        return None
    table = Table(
        box=box.SIMPLE_HEAD,
        title="Events (across articles): F1",
        caption="MUC: links; B³: per mention; CEAF-e: events aligned one to one; CoNLL: their mean",
    )
    for header in ("run", "MUC", "B³", "CEAF-e", "CoNLL", "events"):
        table.add_column(header, justify="left" if header == "run" else "right", no_wrap=True)
    for row in rows:
        table.add_row(
            escape(row["name"]),
            *(_pct(row[m]["f1"]) for m in ("muc", "b3", "ceaf_e")),
            _pct(row["conll_f1"]),
            f"{row['predicted_events']}/{row['gold_events']}",
        )
    return table


def languages_table(runs: Sequence[Run]) -> Table:
    """Record F1 (found/strict) and field micro F1 per article language, one row per run and language."""
    table = Table(box=box.SIMPLE_HEAD, title="By language", caption="record F1: found / strict")
    for header in ("run", "language", "articles", "meetings", "positions", "fields"):
        table.add_column(header, justify="left" if header in ("run", "language") else "right")
    for run in runs:
        for language, card in run.by_language().items():
            table.add_row(
                escape(run.name),
                escape(language),
                str(len(card.articles)),
                f"{_pct(card.total('meetings.record').f1)}/"
                f"{_pct(card.total('meetings.record_strict').f1)}",
                f"{_pct(card.total('positions.record').f1)}/"
                f"{_pct(card.total('positions.record_strict').f1)}",
                _pct(card.micro().f1),
            )
    return table


def _field_rows(card: Scorecard) -> list[tuple[str, dict[str, Any]]]:
    data = card.to_dict()
    return [
        (f"{rtype}.{name}", entry) for rtype in RECORD_TYPES for name, entry in data[rtype].items()
    ]


def fields_table(runs: Sequence[Run]) -> Table:
    """Per field: P/R/F1 and the counts for one run; F1 side by side for several."""
    single = len(runs) == 1
    title = f"Fields: {escape(runs[0].name)}" if single else "Fields: F1"
    table = Table(box=box.SIMPLE_HEAD, title=title)
    table.add_column("field", no_wrap=True)
    headers = ("P", "R", "F1", "right", "part", "wrong", "spur", "miss") if single else ()
    for header in headers or [escape(run.name) for run in runs]:
        table.add_column(header, justify="right")
    columns = [dict(_field_rows(run.card)) for run in runs]
    section = ""
    for key in dict.fromkeys(k for c in columns for k in c):
        rtype, name = key.split(".", 1)
        if rtype != section:
            if section:
                table.add_section()
            table.add_row(f"[bold]{escape(rtype)}[/bold]")
            section = rtype
        if not single:
            row = (_pct(c[key]["f1"]) if key in c else "—" for c in columns)
            table.add_row(f"  {escape(name)}", *row)
            continue
        e = columns[0][key]
        counts = [e[k] for k in ("correct", "partial", "wrong", "spurious", "missed")]
        table.add_row(
            f"  {escape(name)}",
            _pct(e["precision"]),
            _pct(e["recall"]),
            _pct(e["f1"]),
            *(("",) * 5 if name.endswith("_overlap") else map(str, counts)),  # characters
        )
    return table


def comparison_table(comparison: Comparison) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        title=(
            f"{escape(comparison.b_name)} vs {escape(comparison.a_name)}: F1 delta with 95% CI "
            f"(paired bootstrap over {comparison.articles} articles, "
            f"{comparison.samples} samples, seed {comparison.seed})"
        ),
        caption=f"warning: {escape(comparison.warning)}" if comparison.warning else None,
        caption_style="bold red",
    )
    table.add_column("field", no_wrap=True)
    for header in (comparison.a_name, comparison.b_name, "delta", "95% CI", ""):
        table.add_column(escape(header), justify="right")
    for m in comparison.metrics:
        ci = m.ci95["f1"]
        delta = m.delta["f1"]
        table.add_row(
            escape(m.key),
            _pct(m.a["f1"]),
            _pct(m.b["f1"]),
            "—" if delta is None else f"{delta:+.2f}",
            "—" if ci is None else escape(f"[{ci[0]:+.2f}, {ci[1]:+.2f}]"),
            "*" if m.significant else "",
        )
    return table


def differing_table(comparison: Comparison) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="Articles where the two differ most (field micro F1)")
    for header in ("article", comparison.a_name, comparison.b_name, "delta", "fields that moved"):
        table.add_column(escape(header))
    for d in comparison.differing:
        table.add_row(
            escape(d.article_id),
            _pct(d.a_f1),
            _pct(d.b_f1),
            f"{d.delta:+.2f}",
            escape(", ".join(d.fields)),
        )
    return table


_F1_CHARTS = (
    ("meetings.record", "Meetings: record F1, found"),
    ("meetings.record_strict", "Meetings: record F1, strict"),
    ("positions.record", "Positions: record F1, found"),
    ("positions.record_strict", "Positions: record F1, strict"),
    ("micro", "Fields: micro F1"),
)


def _charts(runs: Sequence[Run], *, samples: int = 2000, seed: int = 0) -> list[dict[str, Any]]:
    """Bar charts of the report, a bar per run: F1 with its 95% bootstrap interval, and rates."""
    keys = [key for key, _ in _F1_CHARTS]
    intervals = {
        run.name: bootstrap_intervals(run.card, keys, samples=samples, seed=seed) for run in runs
    }
    charts = []
    for key, title in _F1_CHARTS:
        bars = []
        for run in runs:
            counts = run.card.micro() if key == "micro" else run.card.total(key)
            bars.append(
                {
                    "name": run.name,
                    "fixture": run.meta.fixture,
                    "value": counts.f1,
                    "ci": intervals[run.name][key],
                }
            )
        charts.append({"title": title, "bars": bars, "intervals": True})
    for rate, title, count in (
        ("valid_rate", "Valid answers (share of articles)", "valid"),
        ("reask_rate", "Re-asked (share of articles)", "reasked"),
    ):
        bars = []
        for run in runs:
            validity = run.card.validity()
            label = f"{validity[count]}/{validity['articles']}"
            bars.append(
                {
                    "name": run.name,
                    "fixture": run.meta.fixture,
                    "value": validity[rate],
                    "ci": None,
                    "label": label,
                }
            )
        charts.append({"title": title, "bars": bars, "intervals": False})
    return charts


def _provenance(runs: Sequence[Run]) -> dict[str, Any]:
    """When, with which version, on which gold: what a reader needs to trust or redo the report."""
    golds = []
    for gold in dict.fromkeys(run.meta.gold for run in runs if run.meta.gold):
        path = Path(gold)
        golds.append({"path": gold, "digest": gold_digest(path) if path.is_dir() else None})
    card = runs[0].card if runs else Scorecard([])
    return {
        "made": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": version("llm-extract"),
        "golds": golds,
        "articles": len(card.articles),
        "meetings": int(card.total("meetings.record").gold),
        "positions": int(card.total("positions.record").gold),
        "min_articles": MIN_ARTICLES,
    }


def render_html(
    runs: Sequence[Run], *, comparison: Comparison | None = None, title: str = "llm-extract eval"
) -> str:
    """The self-contained report: leaderboard and charts, per-field table, and per article what
    went wrong; it says when it was made, by which version, on which gold."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["pct"] = _pct
    template = env.from_string(
        files("llm_extract").joinpath("templates/report.html.j2").read_text("utf-8")
    )
    field_keys = list(dict.fromkeys(k for run in runs for k, _ in _field_rows(run.card)))
    fields = {run.name: dict(_field_rows(run.card)) for run in runs}
    article_ids = list(dict.fromkeys(a.article_id for run in runs for a in run.card.articles))
    per_article = {
        article_id: [(run, next(a for a in run.card.articles if a.article_id == article_id)) for run in runs
                     if any(a.article_id == article_id for a in run.card.articles)]
        for article_id in article_ids
    }  # fmt: skip
    confusions = {
        run.name: {
            key: _matrix(run.card, key)
            for key in (
                "meetings.status",
                "meetings.format",
                "positions.stance",
                "positions.speech",
            )
        }
        for run in runs
    }
    leaderboard = leaderboard_rows(runs)
    notes = list(dict.fromkeys(row["note"] for row in leaderboard if row["note"]))
    return template.render(
        title=title,
        runs=runs,
        leaderboard=leaderboard,
        notes=notes,
        note_mark=_NOTE_MARK,
        charts=_charts(runs),
        provenance=_provenance(runs),
        events=events_rows(runs),
        field_keys=field_keys,
        fields=fields,
        per_article=per_article,
        confusions=confusions,
        comparison=comparison,
    )


def _matrix(card: Scorecard, key: str) -> dict[str, Any]:
    pairs = card.confusion(key)
    gold = sorted({g for g, _ in pairs})
    pred = sorted({p for _, p in pairs})
    return {"gold": gold, "pred": pred, "cells": {f"{g}|{p}": c for (g, p), c in pairs.items()}}
