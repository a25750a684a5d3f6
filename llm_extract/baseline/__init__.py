"""The offline baseline: rules over natasha's tags fill the same schema as any model.

`BaselineExtractor().extract(article)` needs no key and no network. natasha's
models load once per process, on first use or on `BaselineExtractor.load()`.
It reads Russian only; other languages get an `ArticleError` that says so.
It uses `normalise` and `ground` as libraries (they import nothing from it): its evidence is
made at the offsets it knows, and its names are looked up in the alias table. As for every
model, the pipeline grounds, normalises and checks its records once (`models.BaselineModel`
runs it there, one article at a time).
"""

from __future__ import annotations

from llm_extract.articles import Article
from llm_extract.baseline.entities import Cast
from llm_extract.baseline.meetings import find_meetings
from llm_extract.baseline.nlp import load_models, parse
from llm_extract.baseline.positions import find_positions
from llm_extract.errors import ArticleError
from llm_extract.schemas import ArticleExtraction
from llm_extract.settings import BASELINE

__all__ = ["BASELINE_MODEL", "BaselineExtractor"]

BASELINE_MODEL = BASELINE
"""The model name results carry and `--model` selects (`settings.BASELINE`)."""


class BaselineExtractor:
    """Rule-based extraction of meetings and positions from Russian news."""

    name = BASELINE_MODEL

    def load(self) -> None:
        """Load natasha now (about 2 s) instead of on the first article."""
        load_models()

    def extract(self, article: Article) -> ArticleExtraction:
        if article.language != "ru":
            raise ArticleError(
                f"{article.source}: the baseline reads Russian only, and this article looks "
                f"like {article.language!r}; use an LLM (--model provider/name) for it"
            )
        sentences = parse(article.text)
        cast = Cast(sentences)
        return ArticleExtraction(
            meetings=find_meetings(sentences, cast, article.text, article.published),
            positions=find_positions(sentences, cast, article.text),
        )
