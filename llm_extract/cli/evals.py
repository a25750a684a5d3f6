"""`llm-extract eval`, `score` and `compare`: choosing a model and seeing where it goes wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from llm_extract.aliases import use_aliases
from llm_extract.cli._common import (
    AliasFile,
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
    DEFAULT_ARTICLES,
    DEFAULT_FIXTURES,
    DEFAULT_GOLD,
    DEFAULT_OUT,
    DEFAULT_PRICES,
    PriceTable,
    Run,
    compare_runs,
    default_models,
    evaluate,
    load_run,
)
from llm_extract.report import (
    comparison_table,
    differing_table,
    fields_table,
    leaderboard_rows,
    leaderboard_table,
    render_html,
)

__all__ = ["compare", "eval_models", "score"]

Gold = Annotated[Path, typer.Option(help="Folder of gold <article id>.json files.")]
Articles = Annotated[
    Path, typer.Option(help="Folder of the article texts (<article id>.txt) the gold points into.")
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
    for run in runs:
        for warning in run.card.warnings:
            typer.echo(f"warning: {run.name}: {warning}", err=True)


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
    gold: Gold = DEFAULT_GOLD,
    articles: Articles = DEFAULT_ARTICLES,
    out: Annotated[
        Path, typer.Option(help="Runs are stored in OUT/<model>/ (predictions, scores, metadata).")
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
        typer.Option(help="Where to write the HTML report.", show_default="OUT/report.html"),
    ] = None,
    aliases: AliasFile = None,
) -> None:
    """Run models over the gold articles, store the runs, print a leaderboard, write a report."""
    with user_errors():
        use_aliases(aliases)
        runs = evaluate(
            model or default_models(fixtures),
            gold=gold,
            articles=articles,
            out=out,
            prices=PriceTable.load(prices),
            cache=open_cache(cache, cache_dir),
            fixtures=fixtures,
            base_url=base_url,
            mode=mode.value if mode else None,
            concurrency=concurrency,
        )
    if as_json:
        _print_json(
            {
                "leaderboard": leaderboard_rows(runs),
                "runs": {
                    run.name: {"run": run.meta.model_dump(mode="json"), **run.card.to_dict()}
                    for run in runs
                },
            }
        )
    else:
        _show(runs)
        typer.echo(f"runs stored in {out}/", err=True)
    _write_report(report or out / "report.html", render_html(runs))
    failed = [run for run in runs if run.all_failed]
    for run in failed:
        typer.echo(
            f"error: {run.name}: every article failed (first: {run.results[0].error})", err=True
        )
    if failed:
        raise typer.Exit(1)


def score(
    predictions: Annotated[
        Path,
        typer.Argument(
            help="A run folder, a folder of <article id>.json (ExtractionResult or bare "
            "ArticleExtraction), or a .jsonl of results."
        ),
    ],
    gold: Gold = DEFAULT_GOLD,
    articles: Articles = DEFAULT_ARTICLES,
    prices: Prices = DEFAULT_PRICES,
    as_json: AsJson = False,
    report: Report = None,
    aliases: AliasFile = None,
) -> None:
    """Score predictions already on disk against the gold."""
    with user_errors():
        use_aliases(aliases)
        run = load_run(predictions, gold=gold, articles=articles, prices=PriceTable.load(prices))
    if as_json:
        _print_json({"run": run.meta.model_dump(mode="json"), **run.card.to_dict()})
    else:
        _show([run])
    if report is not None:
        _write_report(report, render_html([run], title=f"llm-extract score: {run.name}"))


def compare(
    run_a: Annotated[Path, typer.Argument(help="The reference run (folder or predictions).")],
    run_b: Annotated[Path, typer.Argument(help="The run compared against it.")],
    gold: Gold = DEFAULT_GOLD,
    articles: Articles = DEFAULT_ARTICLES,
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
        a, b, result = compare_runs(
            run_a, run_b, gold=gold, articles=articles, samples=samples, seed=seed, top=top
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
