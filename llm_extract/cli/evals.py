"""`llm-extract eval`, `score` and `compare`: choosing a model and seeing where it goes wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from llm_extract.cli._common import (
    DEFAULT_CONCURRENCY,
    MODEL_PANEL,
    OUTPUT_PANEL,
    ApiKeyEnv,
    AsJson,
    BaseUrl,
    CacheChoice,
    CacheOption,
    CacheStore,
    Concurrency,
    MaxReasks,
    MaxTokens,
    ModeOption,
    NoLog,
    PromptName,
    ReportFormat,
    Rpm,
    TableOrJson,
    Temperature,
    Timeout,
    announce_to_stderr,
    model_calls,
    user_errors,
)
from llm_extract.client import DEFAULT_API_KEY_ENV
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
    stored_runs,
)
from llm_extract.extraction import DEFAULT_MAX_REASKS
from llm_extract.prompts import DEFAULT_PROMPT
from llm_extract.report import (
    comparison_table,
    differing_table,
    fields_table,
    leaderboard_rows,
    leaderboard_table,
    render_html,
)

__all__ = ["compare", "eval_models", "score"]

Gold = Annotated[
    Path,
    typer.Option(
        metavar="FOLDER", help="Folder of gold <article id>.json files.", rich_help_panel="Gold"
    ),
]
Articles = Annotated[
    Path,
    typer.Option(
        metavar="FOLDER",
        help="Folder of the article texts (<article id>.txt) the gold points into.",
        rich_help_panel="Gold",
    ),
]
Report = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Also write a self-contained HTML report to this file (its folder is made).",
        rich_help_panel=OUTPUT_PANEL,
    ),
]
Prices = Annotated[
    Path,
    typer.Option(
        metavar="FILE",
        help="Price table (TOML), USD per million tokens.",
        rich_help_panel=OUTPUT_PANEL,
    ),
]


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _write_report(path: Path, html: str) -> None:
    """Into a folder made if missing, as `--out` does."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    except OSError as err:
        typer.secho(f"error: cannot write the report {path}: {err.strerror}", err=True, fg="red")
        raise typer.Exit(1) from None
    typer.echo(f"wrote {path}", err=True)


def _console() -> Console:
    """At least 120 columns, so the leaderboard's ten labelled columns are never cut."""
    return Console(width=max(Console().width, 120))


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
            metavar="MODEL",
            help="A model to evaluate (repeat for several); default: the fixture models "
            "and the baseline.",
            rich_help_panel=MODEL_PANEL,
        ),
    ] = None,
    gold: Gold = DEFAULT_GOLD,
    articles: Articles = DEFAULT_ARTICLES,
    out: Annotated[
        Path,
        typer.Option(
            metavar="FOLDER",
            help="Runs are stored in OUT/<model>/ (predictions, scores, metadata).",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = DEFAULT_OUT,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = DEFAULT_API_KEY_ENV,
    mode: ModeOption = None,
    prompt: PromptName = DEFAULT_PROMPT,
    temperature: Temperature = None,
    max_tokens: MaxTokens = None,
    timeout: Timeout = None,
    cache: CacheOption = CacheChoice.use,
    cache_dir: CacheStore = None,
    no_log: NoLog = False,
    concurrency: Concurrency = DEFAULT_CONCURRENCY,
    rpm: Rpm = None,
    max_reasks: MaxReasks = DEFAULT_MAX_REASKS,
    fixtures: Annotated[
        Path,
        typer.Option(
            metavar="FOLDER",
            help="Fixture models' replies and recorded cache.",
            rich_help_panel=MODEL_PANEL,
        ),
    ] = DEFAULT_FIXTURES,
    prices: Prices = DEFAULT_PRICES,
    output_format: ReportFormat = TableOrJson.table,
    as_json: AsJson = False,
    report: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Where to write the HTML report.",
            show_default="OUT/report.html",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    show: Annotated[
        list[str] | None,
        typer.Option(
            "--show",
            metavar="RUN",
            help="Stored runs in OUT to rank beside the new ones (repeat); default: every "
            "stored run scored on this gold.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
) -> None:
    """Run models over the gold articles, store the runs, print a leaderboard, write a report."""
    announce_to_stderr()
    with user_errors():
        calls = model_calls(
            cache, cache_dir, no_log=no_log, timeout=timeout, rpm=rpm, max_tokens=max_tokens,
            temperature=temperature,
        )  # fmt: skip
        runs = evaluate(
            model or default_models(fixtures),
            gold=gold,
            articles=articles,
            out=out,
            prices=PriceTable.load(prices),
            fixtures=fixtures,
            base_url=base_url,
            api_key_env=api_key_env,
            mode=mode.value if mode else None,
            prompt=prompt,
            max_reasks=max_reasks,
            concurrency=concurrency,
            client_config=calls.pop("config"),
            **calls,
        )
        made = [run.name for run in runs]
        others, notes = stored_runs(out, gold=gold, articles=articles, names=show, skip=made)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    board = runs + [run for run in others if run.name not in made]
    if as_json or output_format is TableOrJson.json:
        _print_json(
            {
                "leaderboard": leaderboard_rows(board),
                "runs": {
                    run.name: {"run": run.meta.model_dump(mode="json"), **run.card.to_dict()}
                    for run in board
                },
            }
        )
    else:
        _show(board)
        typer.echo(f"runs stored in {out}/", err=True)
    _write_report(report or out / "report.html", render_html(board))
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
    output_format: ReportFormat = TableOrJson.table,
    as_json: AsJson = False,
    report: Report = None,
) -> None:
    """Score predictions already on disk against the gold."""
    as_json = as_json or output_format is TableOrJson.json
    with user_errors():
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
    output_format: ReportFormat = TableOrJson.table,
    as_json: AsJson = False,
    report: Report = None,
) -> None:
    """Per-field deltas of B against A with 95% intervals, and the articles that differ most."""
    as_json = as_json or output_format is TableOrJson.json
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
