"""Inter-annotator agreement of two independent passes, measured with our own scorer.

Pass B is scored against pass A as if A were gold, over the articles both passes labelled.
Record F1 is symmetric (swapping A and B swaps precision and recall only), so the figures
are the agreement either way round. Prints a Markdown table per language and overall, the
one published in `evals/GUIDELINES.md`.

    .venv/bin/python evals/tools/agreement.py evals/annotation/pass_a evals/annotation/pass_b
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llm_extract.articles import load_article
from llm_extract.score import Prediction, Scorecard, load_gold, score_against_gold

_ROOT = Path(__file__).resolve().parents[2]
_ARTICLES = _ROOT / "evals" / "articles"


def _article(article_id: str) -> Path:
    found = sorted(_ARTICLES.glob(f"*/{article_id}.txt"))
    if not found:
        raise SystemExit(f"error: no article {article_id}.txt under {_ARTICLES}/<set>/")
    return found[0]


def _row(name: str, card: Scorecard) -> str:
    def f1(key: str) -> str:
        return f"{card.total(key).f1:.2f}"

    return (
        f"| {name} | {len(card.articles)} | {f1('meetings.record')} | "
        f"{f1('meetings.record_strict')} | {f1('positions.record')} | "
        f"{f1('positions.record_strict')} | {card.micro().f1:.2f} |"
    )


def agreement(pass_a: Path, pass_b: Path) -> str:
    """The Markdown table: overall, then per language, over the articles both passes have."""
    a, b = load_gold(pass_a), load_gold(pass_b)
    shared = sorted(set(a) & set(b))
    articles = {article_id: load_article(_article(article_id)) for article_id in shared}
    gold = {article_id: a[article_id] for article_id in shared}
    predictions = {i: Prediction(i, b[i]) for i in shared}
    texts = {i: article.text for i, article in articles.items()}
    card = score_against_gold(gold, predictions, texts)
    lines = [
        "| articles | n | meetings found | meetings strict | positions found | "
        "positions strict | fields micro F1 |",
        "|---|---|---|---|---|---|---|",
        _row("all", card),
    ]
    languages = sorted({article.language or "?" for article in articles.values()})
    for language in languages:
        subset = [s for s in card.articles if articles[s.article_id].language == language]
        lines.append(_row(language, Scorecard(subset, [])))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pass_a", type=Path)
    parser.add_argument("pass_b", type=Path)
    args = parser.parse_args()
    print(agreement(args.pass_a, args.pass_b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
