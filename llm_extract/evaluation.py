"""Eval runs: models over the gold articles through the engine, stored and scored.

Every model goes through the same engine and cache as `llm-extract extract`.
The fixture models (`fixture-…`) are hand-written answers in
`evals/fixtures/replies/`, recorded by `record_fixtures` into
`evals/fixtures/cache/` and replayed from there (replay-only: a miss is an
error, never a network call), the same path a real model's recorded answers
take. A run folder holds `run.json` (what ran: model, prompt and schema hashes,
tokens, cost, latency, attempts), `scores.json` (the scorecard as `--json`
prints it) and `predictions/<article id>.json` (one ExtractionResult each).
Scores are always recomputed from the stored predictions when a run is
loaded, so a run scored by an older scorer never disagrees with a fresh one.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
import shutil
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from llm_extract.articles import Article, load_article
from llm_extract.baseline import BASELINE_MODEL
from llm_extract.cache import Cache
from llm_extract.compare import Comparison, compare_scorecards
from llm_extract.coref import EventGold, EventScores, load_event_gold, score_events
from llm_extract.errors import ArticleError, ConfigError
from llm_extract.goldsets import DEFAULT_ARTICLES, DEFAULT_GOLD, PROJECT_DIR
from llm_extract.schemas import ArticleExtraction, ExtractionResult, Usage
from llm_extract.score import (
    Prediction,
    Scorecard,
    ScoreConfig,
    load_gold,
    load_predictions,
    score_against_gold,
)
from llm_extract.settings import (
    CallSettings,
    EndpointSettings,
    ExtractionSettings,
    RunSettings,
    model_kind,
    model_slug,
)

__all__ = [
    "DEFAULT_ARTICLES",
    "DEFAULT_FIXTURES",
    "DEFAULT_GOLD",
    "DEFAULT_OUT",
    "DEFAULT_PRICES",
    "IN_SAMPLE",
    "SEED_IDS",
    "SHIPPED_SEEDS",
    "PriceTable",
    "Run",
    "RunMeta",
    "compare_runs",
    "default_models",
    "evaluate",
    "fixture_models",
    "in_sample_note",
    "load_run",
    "load_texts",
    "record_fixtures",
    "store_run",
    "stored_runs",
    "summarise",
]

DEFAULT_PRICES = PROJECT_DIR / "evals" / "prices.toml"
DEFAULT_OUT = Path("runs")
"""Where runs are stored: under the working directory, like every output."""
DEFAULT_FIXTURES = PROJECT_DIR / "evals" / "fixtures"
"""Holds `replies/<model>/<article id>.json` (hand-written) and `cache/` (recorded from them)."""


class PriceTable(BaseModel):
    """USD per million tokens by model name or glob pattern (`evals/prices.toml`)."""

    models: dict[str, dict[str, float]] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> PriceTable:
        if path is None or not path.is_file():
            return cls()
        try:
            return cls.model_validate(tomllib.loads(path.read_text("utf-8")))
        except (tomllib.TOMLDecodeError, ValueError) as err:
            raise ConfigError(
                f'{path}: not a price table ([models."NAME"] with input and output in USD '
                f"per million tokens): {err}"
            ) from None

    def cost(self, model: str, usage: Usage) -> float | None:
        """Dollars for these tokens, or None when the model has no price."""
        price = self.models.get(model) or next(
            (p for pattern, p in self.models.items() if fnmatch.fnmatchcase(model, pattern)), None
        )
        if price is None:
            return None
        return (
            usage.input_tokens * price.get("input", 0.0)
            + usage.output_tokens * price.get("output", 0.0)
        ) / 1e6


class RunMeta(BaseModel):
    """What ran, as stored in `run.json` and shown in the leaderboard."""

    name: str
    model: str | None = None
    created: dt.datetime | None = None
    gold: str | None = None
    articles: int = 0
    failed: int = 0
    prompts: list[str] = Field(default_factory=list, description="name@hash of each prompt used.")
    schema_hashes: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = None
    latency_s: float | None = Field(default=None, description="Summed over articles.")
    attempts: int = 0
    reasks: int = 0
    ungrounded: int = Field(
        default=0, description="Evidence quotes left ungrounded in ok results, summed."
    )

    @property
    def fixture(self) -> bool:
        """Hand-written responses, not a model: their scores say nothing about any real model."""
        return model_kind(self.model or "") == "fixture"

    @property
    def offline(self) -> bool:
        """No model was called (the baseline, or fixture replays): tokens and cost do not apply."""
        return self.fixture or self.model == BASELINE_MODEL


@dataclass
class Run:
    meta: RunMeta
    card: Scorecard
    results: list[ExtractionResult]
    path: Path | None = None
    languages: Mapping[str, str] = field(default_factory=dict)
    """Each gold article's language, for `by_language`."""
    events: EventScores | None = None
    """Event resolution scored against the cross-article gold, when the gold has one."""

    def by_language(self) -> dict[str, Scorecard]:
        """The scorecard split by article language: a model that reads one language shows as such."""
        split: dict[str, list] = {}
        for article in self.card.articles:
            split.setdefault(self.languages.get(article.article_id, "?"), []).append(article)
        return {language: Scorecard(articles, []) for language, articles in sorted(split.items())}

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def note(self) -> str | None:
        """What a reader must know before trusting the scores (see `in_sample_note`)."""
        return in_sample_note(self)

    @property
    def all_failed(self) -> bool:
        """Every article failed: the scores measure the failure, not the model."""
        return bool(self.results) and all(r.status == "failed" for r in self.results)


SHIPPED_SEEDS = DEFAULT_ARTICLES
"""The seed articles shipped with the project (in its checkout, like the gold)."""
SEED_IDS = frozenset(
    {
        "000_5fadb3ca50ee0a75",
        "001_072b93646ec39602",
        "002_6fcc6f4572df1a85",
        "003_f9a86f3078cf3c0b",
        "004_1ccdb289d609ce85",
    }
)
"""The seed articles the baseline's rules were written reading: part of the package, so the
in-sample note holds wherever the package is installed and whatever folder is scored."""

IN_SAMPLE = (
    "in-sample: the baseline's rules were written while reading these seed articles, "
    "so its scores on them overstate how it does on new articles"
)


def in_sample_note(run: Run) -> str | None:
    """`IN_SAMPLE` for the baseline scored on any seed article (`SEED_IDS`), else None."""
    if run.meta.model != BASELINE_MODEL:
        return None
    return IN_SAMPLE if any(a.article_id in SEED_IDS for a in run.card.articles) else None


def summarise(
    name: str,
    results: Sequence[ExtractionResult],
    prices: PriceTable,
    *,
    model: str | None = None,
    gold: Path | None = None,
) -> RunMeta:
    """Metadata of a run from its stored results."""
    usage = sum((r.usage for r in results), Usage())
    latencies = [r.latency_s for r in results if r.latency_s is not None]
    models = sorted({r.model for r in results})
    model = model or (models[0] if len(models) == 1 else None)
    return RunMeta(
        name=name,
        model=model,
        created=dt.datetime.now(dt.UTC).replace(microsecond=0),
        gold=str(gold) if gold else None,
        articles=len(results),
        failed=sum(r.status == "failed" for r in results),
        prompts=sorted({f"{r.prompt.name}@{r.prompt.hash}" for r in results if r.prompt}),
        schema_hashes=sorted({r.schema_hash for r in results if r.schema_hash}),
        usage=usage,
        cost_usd=prices.cost(model, usage) if model else None,
        latency_s=round(sum(latencies), 3) if latencies else None,
        attempts=sum(r.attempts for r in results),
        reasks=sum(r.reasks for r in results),
        ungrounded=sum(len(r.ungrounded) for r in results),
    )


def load_texts(gold: Mapping[str, ArticleExtraction], articles: Path) -> dict[str, str]:
    """Article texts by id from `<articles>/<id>.*`; the gold's offsets point into them."""
    return {article_id: article.text for article_id, article in _load(gold, articles).items()}


def _load(gold: Mapping[str, ArticleExtraction], articles: Path) -> dict[str, Article]:
    loaded = {}
    for article_id in gold:
        try:
            loaded[article_id] = load_article(_source(article_id, articles))
        except (ArticleError, ConfigError):
            continue  # the scorecard warns that quote measures were skipped
    return loaded


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def store_run(run: Run, out: Path) -> Path:
    """Write the run to `out/<its name's folder>/` (`model_slug`, as the cache names it)."""
    folder = out / model_slug(run.name)
    predictions = folder / "predictions"
    predictions.mkdir(parents=True, exist_ok=True)
    for stale in predictions.glob("*.json"):
        stale.unlink()
    for result in run.results:
        (predictions / f"{result.article_id}.json").write_text(
            result.model_dump_json(indent=2) + "\n", encoding="utf-8"
        )
    _write_json(folder / "run.json", run.meta.model_dump(mode="json"))
    _write_json(folder / "scores.json", run.card.to_dict())
    run.path = folder
    return folder


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_run(
    path: Path,
    *,
    gold: Path = DEFAULT_GOLD,
    articles: Path = DEFAULT_ARTICLES,
    prices: PriceTable | None = None,
    config: ScoreConfig | None = None,
) -> Run:
    """A stored run folder, or any folder (or JSONL) of predictions, scored against `gold`."""
    predictions_at = path / "predictions" if (path / "predictions").is_dir() else path
    if not path.exists():
        raise ConfigError(f"{path}: no such run or predictions folder")
    predictions = load_predictions(predictions_at)
    expected = load_gold(gold)
    if not set(predictions) & set(expected):
        raise ConfigError(
            f"0 of {len(expected)} gold articles have a prediction in {path}: expected "
            "<article id>.json files (or JSONL results) whose ids are the gold's, e.g. "
            f"{next(iter(expected))}"
        )
    loaded = _load(expected, articles)
    texts = {article_id: article.text for article_id, article in loaded.items()}
    card = score_against_gold(expected, predictions, texts, config)
    results = [p.result for p in predictions.values() if p.result is not None]
    meta_file = path / "run.json"
    if meta_file.is_file():
        meta = RunMeta.model_validate_json(meta_file.read_text("utf-8"))
    else:
        meta = summarise(path.stem, results, prices or PriceTable(), gold=gold)
    events = _event_scores(_as_results(predictions, loaded), expected, gold)
    return Run(meta, card, results, path, _languages(loaded), events=events)


def _as_results(
    predictions: Mapping[str, Prediction], loaded: Mapping[str, Article]
) -> list[ExtractionResult]:
    """Stored results as they are; a bare extraction (the gold itself, say) as an ok result
    dated by its article, so event resolution can weigh when it was reported."""
    out = []
    for article_id, prediction in predictions.items():
        if prediction.result is not None:
            out.append(prediction.result)
        elif prediction.extraction is not None:
            article = loaded.get(article_id)
            out.append(
                ExtractionResult(
                    article_id=article_id,
                    source=f"{article_id}.txt",
                    published=article.published if article else None,
                    model="predictions",
                    status="ok",
                    extraction=prediction.extraction,
                )
            )
    return out


def _event_scores(
    results: Sequence[ExtractionResult],
    expected: Mapping[str, ArticleExtraction],
    gold: Path | EventGold | None,
) -> EventScores | None:
    events = load_event_gold(gold, expected) if isinstance(gold, Path) else gold
    return score_events(results, expected, events) if events is not None else None


def _languages(loaded: Mapping[str, Article]) -> dict[str, str]:
    return {article_id: article.language or "?" for article_id, article in loaded.items()}


def stored_runs(
    out: Path,
    *,
    gold: Path = DEFAULT_GOLD,
    articles: Path = DEFAULT_ARTICLES,
    names: Sequence[str] | None = None,
    skip: Sequence[str] = (),
) -> tuple[list[Run], list[str]]:
    """The runs stored under `out` (those in `names`, else every one but `skip`), scored
    on `gold`, and a note for each left out: a leaderboard of every run made so far.

    A run made on another gold, or one whose folder no longer loads, is left out
    rather than scored on articles it never saw.
    """
    runs: list[Run] = []
    notes: list[str] = []
    folders = sorted(p.parent for p in out.glob("*/run.json")) if out.is_dir() else []
    by_name = {}
    for folder in folders:
        try:
            meta = RunMeta.model_validate_json((folder / "run.json").read_text("utf-8"))
        except (OSError, ValueError):
            notes.append(f"{folder}: run.json does not load; left out")
            continue
        by_name[meta.name] = (folder, meta)
    missing = [name for name in names or () if name not in by_name]
    if missing:
        known = ", ".join(by_name) or "none"
        raise ConfigError(f"no stored run named {', '.join(missing)} in {out} (stored: {known})")
    wanted = list(names) if names else [n for n in by_name if n not in skip]
    for name in wanted:
        folder, meta = by_name[name]
        if meta.gold and Path(meta.gold).resolve() != gold.resolve():
            notes.append(f"{name}: scored on another gold ({meta.gold}); left out")
            continue
        try:
            runs.append(load_run(folder, gold=gold, articles=articles))
        except ConfigError as err:
            notes.append(f"{name}: {err}; left out")
    return runs, notes


def compare_runs(
    path_a: Path,
    path_b: Path,
    *,
    gold: Path = DEFAULT_GOLD,
    articles: Path = DEFAULT_ARTICLES,
    samples: int = 2000,
    seed: int = 0,
    top: int = 5,
) -> tuple[Run, Run, Comparison]:
    """Load and score two runs, then compare B against A (see `compare_scorecards`)."""
    a = load_run(path_a, gold=gold, articles=articles)
    b = load_run(path_b, gold=gold, articles=articles)
    if a.name == b.name:
        a.meta.name, b.meta.name = str(path_a), str(path_b)
    result = compare_scorecards(
        a.card, b.card, a_name=a.name, b_name=b.name, samples=samples, seed=seed, top=top
    )
    if path_a.resolve() == path_b.resolve():
        result.warnings.insert(
            0, f"both runs are {path_a.resolve()}: a run compared with itself differs by nothing"
        )
    return a, b, result


def _scored(
    name: str,
    results: Sequence[ExtractionResult],
    gold: Mapping[str, ArticleExtraction],
    texts: Mapping[str, str],
    prices: PriceTable,
    *,
    gold_path: Path,
    config: ScoreConfig | None,
    events: EventGold | None = None,
) -> Run:
    predictions = {r.article_id: Prediction.from_result(r) for r in results}
    card = score_against_gold(gold, predictions, texts, config)
    meta = summarise(name, results, prices, model=name, gold=gold_path)
    return Run(meta, card, list(results), events=_event_scores(results, gold, events))


def fixture_models(fixtures: Path = DEFAULT_FIXTURES) -> list[str]:
    """The shipped fixture models: one folder of hand-written replies each."""
    replies = fixtures / "replies"
    return sorted(p.name for p in replies.iterdir() if p.is_dir()) if replies.is_dir() else []


def default_models(fixtures: Path = DEFAULT_FIXTURES) -> list[str]:
    """What `llm-extract eval` runs with no `--model`: the fixtures and the baseline (part of
    the package, its natasha models a dependency: nothing to check for)."""
    return [*fixture_models(fixtures), BASELINE_MODEL]


def _source(article_id: str, articles: Path) -> Path:
    found = sorted(articles.glob(f"{_glob_escape(article_id)}.*"))
    if not found:
        raise ConfigError(
            f"{articles}: no article text for {article_id}; pass --articles with the folder "
            "of <article id>.txt the gold was labelled on"
        )
    return found[0]


def evaluate(
    models: Sequence[str],
    *,
    gold: Path = DEFAULT_GOLD,
    articles: Path = DEFAULT_ARTICLES,
    out: Path | None = DEFAULT_OUT,
    prices: PriceTable | None = None,
    cache: Cache | None = None,
    fixtures: Path = DEFAULT_FIXTURES,
    config: ScoreConfig | None = None,
    notify: Callable[[str], None] | None = None,
    client_config: Any = None,
    endpoint: EndpointSettings | None = None,
    call: CallSettings | None = None,
    extraction: ExtractionSettings | None = None,
    run: RunSettings | None = None,
    **engine: Any,
) -> list[Run]:
    """Run each model over the gold articles through the engine, score, and store under `out`.

    `cache` serves real models (the engine's default when None); fixture models
    always replay from `fixtures/cache`, over the gold articles they have answers
    for: one with none for this gold is skipped, and `notify` is told so (a fixture
    is hand-written for given articles; a miss is no failure of a model).
    The settings objects (`llm_extract.settings`) say which endpoint, how calls are made
    and how each article is extracted; from `run`, the cache (unless `cache` is given),
    the call log and the concurrency (its `out` does not apply: runs are stored under
    `out`). `client_config` is the run's `CallSettings` over `call` (`config` is the
    scorer's). Other keyword arguments go to `extract` and win over the objects.
    """
    if client_config is not None:
        call = client_config
    if run is not None:
        cache = cache if cache is not None else run.open_cache()
        if "call_log" not in engine:
            engine["call_log"] = run.open_call_log()
        engine = {"concurrency": run.concurrency, "progress": run.progress, **engine}
    from llm_extract.client import is_fixture_model  # the engine: heavy, only needed here
    from llm_extract.extraction import extract

    fixtures_known = fixture_models(fixtures)
    unknown = [m for m in models if is_fixture_model(m) and m not in fixtures_known]
    if unknown:
        raise ConfigError(
            f"{', '.join(unknown)}: no such fixture model in {fixtures / 'replies'}; "
            f"the fixture models are {', '.join(fixtures_known) or 'none'}"
        )
    expected = load_gold(gold)
    events = load_event_gold(gold, expected)
    sources = {article_id: _source(article_id, articles) for article_id in expected}
    loaded = _load(expected, articles)
    texts = {article_id: article.text for article_id, article in loaded.items()}
    prices = prices or PriceTable()
    runs = []
    for model in models:
        covered = dict(expected)
        if is_fixture_model(model):
            answered = {p.stem for p in (fixtures / "replies" / model).glob("*.json")}
            covered = {a: g for a, g in expected.items() if a in answered}
            missing = sorted(set(expected) - set(covered))
            if missing and notify is not None:
                notify(
                    f"{model}: no recorded answers for {len(missing)} of {len(expected)} gold "
                    f"articles in {gold}"
                    + (f"; scored on the {len(covered)} it has" if covered else "; skipped")
                )
            if not covered:
                continue
        store = Cache(fixtures / "cache", mode="replay-only") if is_fixture_model(model) else cache
        results = extract(
            [sources[a] for a in covered], endpoint, call, extraction, model=model, cache=store,
            **engine,
        )  # fmt: skip
        run = _scored(
            model, results, covered, texts, prices, gold_path=gold, config=config, events=events
        )
        run.languages = _languages(loaded)
        if out is not None:
            store_run(run, out)
        runs.append(run)
    return runs


def record_fixtures(
    fixtures: Path = DEFAULT_FIXTURES,
    articles: Path = DEFAULT_ARTICLES,
    *,
    cache_dir: Path | None = None,
) -> list[ExtractionResult]:
    """(Re)record every fixture conversation into `fixtures/cache` (or `cache_dir`).

    Each `replies/<model>/<article id>.json` lists the model's answers in order;
    the real engine plays them through the real openai client (in-process, no
    network), re-asks included, and records each call. Run after any change to
    the prompt, the schema or the engine's re-ask wording: the cache keys hash them.
    """
    from llm_extract.fixtures import record_conversation

    target = cache_dir or fixtures / "cache"
    results = []
    shutil.rmtree(Cache(target).shared_path("x").parent, ignore_errors=True)  # rewritten as used
    for model in fixture_models(fixtures):
        recorded = Cache(target, mode="refresh")
        shutil.rmtree(recorded.path(model, "x").parent, ignore_errors=True)  # drop stale keys
        for path in sorted((fixtures / "replies" / model).glob("*.json")):
            script = json.loads(path.read_text("utf-8"))
            article = load_article(_source(path.stem, articles))
            results.append(
                record_conversation(article, replies=script["replies"], model=model, cache=recorded)
            )
    return results
