"""Showing scores: rich tables for the terminal and one self-contained HTML page.

The HTML page carries its own CSS and no script; jinja2 autoescapes every
value, so article text and model output cannot inject markup. Likewise every
data value in a rich table (run and model names, article ids, field names,
warnings) is escaped, so a "[/b]" in one is shown, not read as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from jinja2 import Environment, select_autoescape
from rich import box
from rich.markup import escape
from rich.table import Table

from llm_extract.compare import Comparison
from llm_extract.evaluation import Run
from llm_extract.score import RECORD_TYPES, Scorecard

__all__ = [
    "comparison_table",
    "differing_table",
    "fields_table",
    "languages_table",
    "leaderboard_rows",
    "leaderboard_table",
    "render_html",
]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def leaderboard_rows(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """One row per run, best field micro F1 first: the figures the leaderboard shows."""
    rows = []
    for run in runs:
        card, meta = run.card, run.meta
        validity = card.validity()
        rows.append(
            {
                "name": run.name,
                "model": meta.model,
                "fixture": meta.fixture,
                "articles": validity["articles"],
                "valid_rate": validity["valid_rate"],
                "reask_rate": validity["reask_rate"],
                "meetings_found_f1": card.total("meetings.record").f1,
                "meetings_f1": card.total("meetings.record_strict").f1,
                "meetings_soft_f1": card.total("meetings.record_soft").f1,
                "positions_found_f1": card.total("positions.record").f1,
                "positions_f1": card.total("positions.record_strict").f1,
                "positions_soft_f1": card.total("positions.record_soft").f1,
                "micro_f1": card.micro().f1,
                "faithfulness": card.faithfulness()["rate"],
                "tokens": meta.usage.total_tokens,
                "cost_usd": meta.cost_usd,
                "latency_s": meta.latency_s,
                "attempts": meta.attempts,
                "prompts": meta.prompts,
                "note": run.note,
            }
        )
    return sorted(rows, key=lambda r: -(r["micro_f1"] or 0.0))


_NOTE_MARK = "†"


def leaderboard_table(runs: Sequence[Run]) -> Table:
    rows = leaderboard_rows(runs)
    notes = list(dict.fromkeys(row["note"] for row in rows if row["note"]))
    caption = "record F1: found / strict (soft CEAF in the fields table); fields: micro F1"
    for n, note in enumerate(notes, 1):
        caption += f"\n{_NOTE_MARK * n} {escape(note)}"
    table = Table(box=box.SIMPLE_HEAD, title="Leaderboard", caption=caption)
    table.add_column("run", no_wrap=True)
    headers = ("valid", "reask", "meetings", "positions", "fields", "faithful", "tokens", "$", "s")
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        mark = f" {_NOTE_MARK * (notes.index(row['note']) + 1)}" if row["note"] else ""
        table.add_row(
            escape(row["name"]) + mark,
            _pct(row["valid_rate"]),
            _pct(row["reask_rate"]),
            f"{_pct(row['meetings_found_f1'])}/{_pct(row['meetings_f1'])}",
            f"{_pct(row['positions_found_f1'])}/{_pct(row['positions_f1'])}",
            _pct(row["micro_f1"]),
            _pct(row["faithfulness"]),
            f"{row['tokens']:,}",
            "—" if row["cost_usd"] is None else f"{row['cost_usd']:.3g}",
            "—" if row["latency_s"] is None else f"{row['latency_s']:.1f}",
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


def render_html(
    runs: Sequence[Run], *, comparison: Comparison | None = None, title: str = "llm-extract eval"
) -> str:
    """The self-contained report: leaderboard, per-field table, and per article what went wrong."""
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
    return template.render(
        title=title,
        runs=runs,
        leaderboard=leaderboard_rows(runs),
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
