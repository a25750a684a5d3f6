"""Comparing two scored runs: per-field deltas with paired-bootstrap confidence intervals.

The bootstrap resamples articles, not fields or records: errors within one
article are correlated, the article is the unit a new run would draw more of.
Each replicate draws the same article ids for both runs (paired), sums their
counts (micro), and takes B's figure minus A's; the 95% interval is the 2.5th
to 97.5th percentile of those differences. A fixed seed makes it reproducible.
With fewer than `MIN_ARTICLES` articles the intervals are too rough to trust
(five articles give only a few distinct resamples): the comparison says so and
calls nothing significant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llm_extract.errors import ConfigError
from llm_extract.score import RECORD_TYPES, Counts, Scorecard

__all__ = [
    "MIN_ARTICLES",
    "ArticleDelta",
    "Comparison",
    "MetricDelta",
    "bootstrap_intervals",
    "compare_scorecards",
]

_METRICS = ("precision", "recall", "f1")

MIN_ARTICLES = 20
"""Fewest shared articles for which an interval may call a difference significant."""


@dataclass
class MetricDelta:
    """One field's figures in both runs, B minus A, and the 95% interval of that difference."""

    key: str
    a: dict[str, float | None]
    b: dict[str, float | None]
    delta: dict[str, float | None]
    ci95: dict[str, tuple[float, float] | None]
    reliable: bool = True
    """Enough articles (`MIN_ARTICLES`) for the interval to mean something."""

    @property
    def significant(self) -> bool:
        """The F1 interval excludes zero, over enough articles to trust it."""
        ci = self.ci95["f1"]
        return self.reliable and ci is not None and (ci[0] > 0 or ci[1] < 0)


@dataclass
class ArticleDelta:
    article_id: str
    a_f1: float | None
    b_f1: float | None
    delta: float
    fields: list[str] = field(default_factory=list)
    """The fields whose F1 moved most in this article, e.g. `meetings.date -0.50`."""


@dataclass
class Comparison:
    a_name: str
    b_name: str
    samples: int
    seed: int
    articles: int
    metrics: list[MetricDelta]
    differing: list[ArticleDelta]
    warnings: list[str] = field(default_factory=list)
    warning: str | None = None
    """Set when the intervals are not to be trusted (too few articles)."""

    def to_dict(self) -> dict[str, Any]:
        """`--json`: record type -> field -> a, b, delta and ci95, each with precision/recall/f1."""
        out: dict[str, Any] = {
            "a": self.a_name,
            "b": self.b_name,
            "articles": self.articles,
            "bootstrap": {"samples": self.samples, "seed": self.seed},
            "warning": self.warning,
        }
        for metric in self.metrics:
            section, name = metric.key.split(".", 1) if "." in metric.key else ("all", metric.key)
            out.setdefault(section, {})[name] = {
                "a": metric.a,
                "b": metric.b,
                "delta": metric.delta,
                "ci95": {k: (list(v) if v else None) for k, v in metric.ci95.items()},
                "significant": metric.significant,
            }
        out["differing_articles"] = [
            {
                "article_id": d.article_id,
                "a_f1": d.a_f1,
                "b_f1": d.b_f1,
                "delta": d.delta,
                "fields": d.fields,
            }
            for d in self.differing
        ]
        out["warnings"] = self.warnings
        return out


def _keys(card: Scorecard) -> list[str]:
    keys = []
    for rtype in RECORD_TYPES:
        keys += [*card.keys(rtype), f"{rtype}.micro"]
    return [*keys, "micro", "quotes.faithfulness"]


def _counts(card: Scorecard, article: int, key: str) -> Counts:
    """One article's counts for a key, the derived micro and faithfulness keys included."""
    score = card.articles[article]
    if key == "quotes.faithfulness":
        return Counts(credit=score.faithful, predicted=score.quotes, gold=score.quotes)
    single = Scorecard([score])
    if key == "micro":
        return single.micro()
    if key.endswith(".micro"):
        return single.micro(key.split(".", 1)[0])
    return score.counts.get(key, Counts())


def _table(card: Scorecard, keys: list[str]) -> np.ndarray:
    """articles x keys x (credit, predicted, gold)."""
    table = np.zeros((len(card.articles), len(keys), 3))
    for i in range(len(card.articles)):
        for k, key in enumerate(keys):
            c = _counts(card, i, key)
            table[i, k] = (c.credit, c.predicted, c.gold)
    return table


def _rates(sums: np.ndarray) -> dict[str, np.ndarray]:
    credit, predicted, gold = sums[..., 0], sums[..., 1], sums[..., 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "precision": np.where(predicted > 0, credit / predicted, np.nan),
            "recall": np.where(gold > 0, credit / gold, np.nan),
            "f1": np.where(predicted + gold > 0, 2 * credit / (predicted + gold), np.nan),
        }


def _value(x: float) -> float | None:
    return None if np.isnan(x) else round(float(x), 4)


def bootstrap_intervals(
    card: Scorecard, keys: list[str], *, samples: int = 2000, seed: int = 0
) -> dict[str, tuple[float, float] | None]:
    """95% percentile intervals of one run's F1 per key, resampling its articles.

    Keys are those of `compare_scorecards` (a field, `meetings.micro`, `micro`, ...);
    None where no replicate has anything to score.
    """
    if not card.articles:
        return dict.fromkeys(keys)
    table = _table(card, keys)
    n = len(card.articles)
    weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=samples)
    f1 = _rates(np.einsum("sn,nkc->skc", weights, table))["f1"]
    out: dict[str, tuple[float, float] | None] = {}
    for k, key in enumerate(keys):
        values = f1[:, k][~np.isnan(f1[:, k])]
        out[key] = (
            (
                round(float(np.percentile(values, 2.5)), 4),
                round(float(np.percentile(values, 97.5)), 4),
            )
            if values.size
            else None
        )
    return out


def compare_scorecards(
    a: Scorecard,
    b: Scorecard,
    *,
    a_name: str = "A",
    b_name: str = "B",
    samples: int = 2000,
    seed: int = 0,
    top: int = 5,
) -> Comparison:
    """B against A over the articles both scored; deltas are B minus A."""
    ids_a = [s.article_id for s in a.articles]
    ids_b = [s.article_id for s in b.articles]
    shared = sorted(set(ids_a) & set(ids_b))
    if not shared:
        raise ConfigError(
            "the two runs share no article; compare runs scored against the same gold"
        )
    warnings = [f"{x}: only in {a_name}; left out" for x in sorted(set(ids_a) - set(shared))]
    warnings += [f"{x}: only in {b_name}; left out" for x in sorted(set(ids_b) - set(shared))]
    a = Scorecard([s for s in a.articles if s.article_id in shared])
    b = Scorecard([s for s in b.articles if s.article_id in shared])
    a.articles.sort(key=lambda s: s.article_id)
    b.articles.sort(key=lambda s: s.article_id)

    keys = list(dict.fromkeys(_keys(a) + _keys(b)))
    table_a, table_b = _table(a, keys), _table(b, keys)
    rng = np.random.default_rng(seed)
    n = len(shared)
    weights = rng.multinomial(n, np.full(n, 1 / n), size=samples)  # resample articles
    boot_a = _rates(np.einsum("sn,nkc->skc", weights, table_a))
    boot_b = _rates(np.einsum("sn,nkc->skc", weights, table_b))
    full_a, full_b = _rates(table_a.sum(axis=0)), _rates(table_b.sum(axis=0))

    reliable = n >= MIN_ARTICLES
    warning = (
        None
        if reliable
        else f"only {n} articles: the 95% intervals are unreliable below {MIN_ARTICLES}, "
        "so no difference is called significant"
    )
    metrics = []
    for k, key in enumerate(keys):
        ci: dict[str, tuple[float, float] | None] = {}
        for m in _METRICS:
            diffs = boot_b[m][:, k] - boot_a[m][:, k]
            diffs = diffs[~np.isnan(diffs)]
            ci[m] = (
                (
                    round(float(np.percentile(diffs, 2.5)), 4),
                    round(float(np.percentile(diffs, 97.5)), 4),
                )
                if diffs.size
                else None
            )
        metrics.append(
            MetricDelta(
                key,
                {m: _value(full_a[m][k]) for m in _METRICS},
                {m: _value(full_b[m][k]) for m in _METRICS},
                {m: _value(full_b[m][k] - full_a[m][k]) for m in _METRICS},
                ci,
                reliable,
            )
        )
    return Comparison(
        a_name,
        b_name,
        samples,
        seed,
        n,
        metrics,
        _differing(keys, table_a, table_b, shared, top),
        warnings,
        warning,
    )


def _differing(
    keys: list[str], table_a: np.ndarray, table_b: np.ndarray, ids: list[str], top: int
) -> list[ArticleDelta]:
    """Articles ranked by how far their overall micro F1 moved, with the fields that moved most."""
    micro = keys.index("micro")
    f1_a, f1_b = _rates(table_a)["f1"], _rates(table_b)["f1"]
    rows = []
    for i, article_id in enumerate(ids):
        moved = np.nan_to_num(f1_b[i]) - np.nan_to_num(f1_a[i])
        fields = [
            f"{keys[k]} {moved[k]:+.2f}"
            for k in np.argsort(-np.abs(moved))
            if moved[k] and "micro" not in keys[k] and not keys[k].startswith("quotes")
        ][:3]
        delta = float(np.nan_to_num(f1_b[i, micro]) - np.nan_to_num(f1_a[i, micro]))
        rows.append(
            ArticleDelta(
                article_id, _value(f1_a[i, micro]), _value(f1_b[i, micro]), round(delta, 4), fields
            )
        )
    rows.sort(key=lambda r: (-abs(r.delta), r.article_id))
    return [r for r in rows[:top] if r.delta or r.fields]
