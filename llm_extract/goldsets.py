"""Gold sets: which gold folder is scored against which folder of article texts, by name.

The shipped gold comes in three sets that are scored apart and never pooled, because they answer
different questions: `seeds` (the five sample articles, which the baseline's rules and the prompt
were written reading), `dev` (real articles to read and tune rules and prompts on) and `test`
(real articles kept for reporting only: nobody reads them while writing rules or prompts, so their
scores are the honest out-of-sample figures). Every `--gold` option takes a set's name or any
folder of `<article id>.json` files.

The shipped sets live in the project checkout the package runs from (the editable install the
README sets up; a wheel carries no gold), so their paths are anchored there, not to the working
directory: `llm-extract eval` finds them from any folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_extract.errors import ConfigError

__all__ = [
    "DEFAULT_ARTICLES",
    "DEFAULT_GOLD",
    "PROJECT_DIR",
    "SHIPPED_SETS",
    "GoldSet",
    "gold_set",
    "gold_sets",
]

PROJECT_DIR = Path(__file__).resolve().parents[1]
"""The checkout holding `evals/`, `seeds/` and `prompts/` (linked into the package)."""
DEFAULT_GOLD = PROJECT_DIR / "evals" / "gold"
DEFAULT_ARTICLES = PROJECT_DIR / "seeds"


@dataclass(frozen=True)
class GoldSet:
    """A gold folder, the article texts its offsets point into, and a name to report it by."""

    name: str
    gold: Path
    articles: Path
    shipped: bool = False
    """One of `SHIPPED_SETS`: its runs are stored and reported under its name."""

    @property
    def present(self) -> bool:
        return self.gold.is_dir() and any(self.gold.glob("*.json"))


SHIPPED_SETS = (
    GoldSet("seeds", DEFAULT_GOLD, DEFAULT_ARTICLES, shipped=True),
    GoldSet("dev", DEFAULT_GOLD / "dev", PROJECT_DIR / "evals" / "articles" / "dev", shipped=True),
    GoldSet(
        "test", DEFAULT_GOLD / "test", PROJECT_DIR / "evals" / "articles" / "test", shipped=True
    ),
)
"""In the project checkout, wherever the command runs from."""


def gold_set(value: str | Path, articles: Path | None = None) -> GoldSet:
    """A shipped set by name, or a folder of gold files (its texts in `articles`, default `seeds/`)."""
    for shipped in SHIPPED_SETS:
        if str(value) == shipped.name:
            if articles is None:
                return shipped
            return GoldSet(shipped.name, shipped.gold, articles, shipped=True)
    folder = Path(value)
    if not folder.is_dir():
        names = ", ".join(s.name for s in SHIPPED_SETS)
        raise ConfigError(
            f"{value}: no such gold folder or gold set ({names}); pass --gold with a set's "
            "name or a folder of <article id>.json"
        )
    return GoldSet(folder.name or str(folder), folder, articles or DEFAULT_ARTICLES)


def gold_sets(values: Sequence[str | Path] | None, articles: Path | None = None) -> list[GoldSet]:
    """The sets named (each a name or a folder), or with none named every shipped set present."""
    if values:
        return [gold_set(value, articles) for value in values]
    present = [s for s in SHIPPED_SETS if s.present]
    if not present:
        raise ConfigError(
            f"no shipped gold found under {DEFAULT_GOLD}/ (a wheel carries none: install the "
            "project checkout, or pass --gold with a folder of <article id>.json)"
        )
    return present
