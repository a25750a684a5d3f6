"""`llm-extract eval`, `score` and `compare`: choosing a model and seeing where it goes wrong."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from llm_extract.aliases import use_aliases
from llm_extract.cli._common import (
    DEFAULT_CONCURRENCY,
    MODEL_PANEL,
    OUTPUT_PANEL,
    AliasFile,
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
    call_settings,
    run_settings,
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
    stored_runs,
)
from llm_extract.goldsets import GoldSet, gold_set, gold_sets
from llm_extract.report import (
    comparison_table,
    differing_table,
    events_table,
    fields_table,
    languages_table,
    leaderboard_rows,
    leaderboard_table,
    render_html,
)
from llm_extract.settings import (
    DEFAULT_API_KEY_ENV,
    DEFAULT_MAX_REASKS,
    DEFAULT_PROMPT,
    CallSettings,
    EndpointSettings,
    ExtractionSettings,
    RunSettings,
)

__all__ = ["compare", "eval_models", "score"]

_GOLD_HELP = (
    "A gold set (seeds, dev, test) or a folder of gold <article id>.json files. Sets are "
    "scored apart: tune on seeds and dev, report test."
)
Gold = Annotated[str, typer.Option(metavar="SET|FOLDER", help=_GOLD_HELP, rich_help_panel="Gold")]
Articles = Annotated[
    Path | None,
    typer.Option(
        metavar="FOLDER",
        help="Folder of the article texts (<article id>.txt) the gold points into.",
        show_default="the set's own, or the project's seeds/ for a folder",
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
        show_default="the project's evals/prices.toml",
        rich_help_panel=OUTPUT_PANEL,
    ),
]


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _write_report(path: Path, html: str) -> None:
    """Into a folder made if missing, as `--results` and `--runs` do."""
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


def _show(runs: list[Run], gold: str | None = None) -> None:
    console = _console()
    console.print(leaderboard_table(runs, gold))
    if (events := events_table(runs)) is not None:
        console.print(events)
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
            metavar="MODEL",
            help="A model to evaluate (repeat for several); default: the fixture models "
            "and the baseline.",
            rich_help_panel=MODEL_PANEL,
        ),
    ] = None,
    gold: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SET|FOLDER",
            help=f"{_GOLD_HELP} Repeat for several; default: every shipped set.",
            rich_help_panel="Gold",
        ),
    ] = None,
    articles: Articles = None,
    runs_dir: Annotated[
        Path,
        typer.Option(
            "--runs",
            "--out",
            metavar="FOLDER",
            help="The folder runs are stored in: RUNS/<set>/<model>/ (RUNS/<model>/ for a gold "
            "folder), with predictions, scores, metadata. --out is the old name.",
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
            show_default="the project's evals/fixtures",
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
            help="Where to write the HTML report (one per gold set: the set's name is added "
            "when several are scored).",
            show_default="RUNS/<set>/report.html",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    show: Annotated[
        list[str] | None,
        typer.Option(
            "--show",
            metavar="RUN",
            help="Stored runs to rank beside the new ones (repeat); default: every run "
            "stored for the set.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    aliases: AliasFile = None,
) -> None:
    """Run models over each gold set, store the runs, print a leaderboard per set, write reports."""
    announce_to_stderr()
    as_json = as_json or output_format is TableOrJson.json
    out = runs_dir
    with user_errors():
        use_aliases(aliases)
        sets = gold_sets(gold, articles)
        settings = _Engine(
            endpoint=EndpointSettings.from_env(
                base_url=base_url, api_key_env=api_key_env, mode=mode.value if mode else None
            ),
            call=call_settings(
                timeout=timeout, rpm=rpm, max_tokens=max_tokens, temperature=temperature
            ),
            extraction=ExtractionSettings(prompt=prompt, max_reasks=max_reasks),
            run=run_settings(cache, cache_dir, no_log=no_log, concurrency=concurrency),
        )
        store, call_log = settings.run.open_cache(), settings.run.open_call_log()
    scored: dict[str, list[Run]] = {}
    for chosen in sets:
        folder = out / chosen.name if chosen.shipped else out
        made = _eval_set(chosen, model, folder, fixtures, prices, settings, store, call_log)
        names = [run.name for run in made]
        with user_errors():
            others, notes = stored_runs(
                folder, gold=chosen.gold, articles=chosen.articles, names=show, skip=names
            )
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        runs = made + [run for run in others if run.name not in names]
        scored[chosen.name] = runs
        if not as_json:
            typer.echo(f"gold set {chosen.name}: {chosen.gold} ({len(runs)} runs)", err=True)
            _show(runs, f"gold set {chosen.name}")
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


@dataclass(frozen=True)
class _Engine:
    """The settings every gold set's runs share."""

    endpoint: EndpointSettings
    call: CallSettings
    extraction: ExtractionSettings
    run: RunSettings


def _eval_set(
    chosen: GoldSet,
    models: list[str] | None,
    out: Path,
    fixtures: Path,
    prices: Path,
    settings: _Engine,
    store: Any,
    call_log: Any,
) -> list[Run]:
    """One set's runs; the cache and call log are opened once for every set."""
    with user_errors():
        return evaluate(
            models or default_models(fixtures),
            gold=chosen.gold,
            articles=chosen.articles,
            out=out,
            prices=PriceTable.load(prices),
            fixtures=fixtures,
            notify=_warn,
            cache=store,
            call_log=call_log,
            endpoint=settings.endpoint,
            call=settings.call,
            extraction=settings.extraction,
            run=settings.run,
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
        "events": run.events.to_dict() if run.events else None,
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
    output_format: ReportFormat = TableOrJson.table,
    as_json: AsJson = False,
    report: Report = None,
    aliases: AliasFile = None,
) -> None:
    """Score predictions already on disk against the gold."""
    as_json = as_json or output_format is TableOrJson.json
    with user_errors():
        use_aliases(aliases)
        chosen = gold_set(gold, articles)
        run = load_run(
            predictions, gold=chosen.gold, articles=chosen.articles, prices=PriceTable.load(prices)
        )
    if as_json:
        _print_json(_run_json(run))
    else:
        _show([run], f"gold set {chosen.name}")
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
    output_format: ReportFormat = TableOrJson.table,
    as_json: AsJson = False,
    report: Report = None,
) -> None:
    """Per-field deltas of B against A with 95% intervals, and the articles that differ most."""
    as_json = as_json or output_format is TableOrJson.json
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
