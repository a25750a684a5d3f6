"""`llm-extract eval`, `score` and `compare`: choosing a model and seeing where it goes wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from llm_extract.cli._common import (
    AsJson,
    BaseUrl,
    CacheChoice,
    CacheOption,
    CacheStore,
    Concurrency,
    ModeOption,
    open_cache,
    user_errors,
)
from llm_extract.evaluation import (
    DEFAULT_FIXTURES,
    DEFAULT_OUT,
    DEFAULT_PRICES,
    PriceTable,
    Run,
    compare_runs,
    default_models,
    evaluate,
    load_run,
)
from llm_extract.goldsets import GoldSet, gold_set, gold_sets
from llm_extract.report import (
    comparison_table,
    differing_table,
    fields_table,
    languages_table,
    leaderboard_rows,
    leaderboard_table,
    render_html,
)

__all__ = ["compare", "eval_models", "score"]

_GOLD_HELP = (
    "A gold set (seeds, dev, test) or a folder of gold <article id>.json files. Sets are "
    "scored apart: tune on seeds and dev, report test."
)
Gold = Annotated[str, typer.Option(help=_GOLD_HELP)]
Articles = Annotated[
    Path | None,
    typer.Option(
        help="Folder of the article texts (<article id>.txt) the gold points into.",
        show_default="the set's own, or seeds/ for a folder",
    ),
]
Report = Annotated[
    Path | None, typer.Option(help="Also write a self-contained HTML report to this file.")
]


Prices = Annotated[Path, typer.Option(help="Price table (TOML), USD per million tokens.")]


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _write_report(path: Path, html: str) -> None:
    path.write_text(html, encoding="utf-8")
    typer.echo(f"wrote {path}", err=True)


def _console() -> Console:
    """At least 100 columns, so piped output keeps its headers readable."""
    return Console(width=max(Console().width, 100))


def _show(runs: list[Run]) -> None:
    console = _console()
    console.print(leaderboard_table(runs))
    console.print(fields_table(runs))
    if any(len(run.by_language()) > 1 for run in runs):
        console.print(languages_table(runs))
    for run in runs:
        for warning in run.card.warnings:
            typer.echo(f"warning: {run.name}: {warning}", err=True)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def eval_models(
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="A model to evaluate (repeat for several); default: the fixture models "
            "and the baseline.",
        ),
    ] = None,
    gold: Annotated[
        list[str] | None,
        typer.Option(help=f"{_GOLD_HELP} Repeat for several; default: every shipped set."),
    ] = None,
    articles: Articles = None,
    out: Annotated[
        Path,
        typer.Option(
            help="Runs are stored in OUT/<set>/<model>/ (OUT/<model>/ for a gold folder): "
            "predictions, scores, metadata."
        ),
    ] = DEFAULT_OUT,
    base_url: BaseUrl = None,
    mode: ModeOption = None,
    cache: CacheOption = CacheChoice.use,
    cache_dir: CacheStore = None,
    concurrency: Concurrency = 4,
    fixtures: Annotated[
        Path, typer.Option(help="Fixture models' replies and recorded cache.")
    ] = DEFAULT_FIXTURES,
    prices: Prices = DEFAULT_PRICES,
    as_json: AsJson = False,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the HTML report (one per gold set: the set's name is added "
            "when several are scored).",
            show_default="OUT/<set>/report.html",
        ),
    ] = None,
) -> None:
    """Run models over each gold set, store the runs, print a leaderboard per set, write reports."""
    with user_errors():
        sets = gold_sets(gold, articles)
        store = open_cache(cache, cache_dir)
    scored: dict[str, list[Run]] = {}
    for chosen in sets:
        runs = _eval_set(chosen, model, out, store, fixtures, prices, base_url, mode, concurrency)
        scored[chosen.name] = runs
        folder = out / chosen.name if chosen.shipped else out
        if not as_json:
            typer.echo(f"gold set {chosen.name}: {chosen.gold} ({len(runs)} runs)", err=True)
            _show(runs)
        if runs:
            target = report or folder / "report.html"
            if report is not None and len(sets) > 1:
                target = report.with_name(f"{report.stem}.{chosen.name}{report.suffix}")
            _write_report(target, render_html(runs, title=f"llm-extract eval: {chosen.name}"))
    if as_json:
        sections = {name: _runs_json(runs) for name, runs in scored.items()}
        _print_json(sections[sets[0].name] if len(sets) == 1 else {"sets": sections})
    else:
        typer.echo(f"runs stored in {out}/", err=True)
    failed = [run for runs in scored.values() for run in runs if run.all_failed]
    for run in failed:
        typer.echo(
            f"error: {run.name}: every article failed (first: {run.results[0].error})", err=True
        )
    if failed:
        raise typer.Exit(1)


def _eval_set(
    chosen: GoldSet,
    models: list[str] | None,
    out: Path,
    store: Any,
    fixtures: Path,
    prices: Path,
    base_url: str | None,
    mode: Any,
    concurrency: int,
) -> list[Run]:
    with user_errors():
        return evaluate(
            models or default_models(fixtures),
            gold=chosen.gold,
            articles=chosen.articles,
            out=out / chosen.name if chosen.shipped else out,
            prices=PriceTable.load(prices),
            cache=store,
            fixtures=fixtures,
            notify=_warn,
            base_url=base_url,
            mode=mode.value if mode else None,
            concurrency=concurrency,
        )


def _runs_json(runs: list[Run]) -> dict[str, Any]:
    return {
        "leaderboard": leaderboard_rows(runs),
        "runs": {run.name: _run_json(run) for run in runs},
    }


def _run_json(run: Run) -> dict[str, Any]:
    by_language = {language: card.to_dict() for language, card in run.by_language().items()}
    return {
        "run": run.meta.model_dump(mode="json"),
        **run.card.to_dict(),
        "by_language": by_language,
    }


def score(
    predictions: Annotated[
        Path,
        typer.Argument(
            help="A run folder, a folder of <article id>.json (ExtractionResult or bare "
            "ArticleExtraction), or a .jsonl of results."
        ),
    ],
    gold: Gold = "seeds",
    articles: Articles = None,
    prices: Prices = DEFAULT_PRICES,
    as_json: AsJson = False,
    report: Report = None,
) -> None:
    """Score predictions already on disk against the gold."""
    with user_errors():
        chosen = gold_set(gold, articles)
        run = load_run(
            predictions, gold=chosen.gold, articles=chosen.articles, prices=PriceTable.load(prices)
        )
    if as_json:
        _print_json(_run_json(run))
    else:
        _show([run])
    if report is not None:
        _write_report(report, render_html([run], title=f"llm-extract score: {run.name}"))


def compare(
    run_a: Annotated[Path, typer.Argument(help="The reference run (folder or predictions).")],
    run_b: Annotated[Path, typer.Argument(help="The run compared against it.")],
    gold: Gold = "seeds",
    articles: Articles = None,
    samples: Annotated[int, typer.Option(min=100, help="Bootstrap samples.")] = 2000,
    seed: Annotated[
        int, typer.Option(help="Seed of the bootstrap: same seed, same intervals.")
    ] = 0,
    top: Annotated[int, typer.Option(min=0, help="How many most-differing articles to list.")] = 5,
    as_json: AsJson = False,
    report: Report = None,
) -> None:
    """Per-field deltas of B against A with 95% intervals, and the articles that differ most."""
    with user_errors():
        chosen = gold_set(gold, articles)
        a, b, result = compare_runs(
            run_a,
            run_b,
            gold=chosen.gold,
            articles=chosen.articles,
            samples=samples,
            seed=seed,
            top=top,
        )
    if as_json:
        _print_json(result.to_dict())
    else:
        console = _console()
        console.print(comparison_table(result))
        console.print(differing_table(result))
        for warning in [result.warning, *result.warnings]:
            if warning:
                typer.echo(f"warning: {warning}", err=True)
    if report is not None:
        _write_report(report, render_html([a, b], comparison=result, title="llm-extract compare"))
