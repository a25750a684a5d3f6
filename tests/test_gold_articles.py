"""The dev/test articles are the yardstick's raw material: real, dated, sourced, distinct."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest

from llm_extract import load_article

_ROOT = Path(__file__).resolve().parents[1]
_ARTICLES = _ROOT / "evals" / "articles"
_MANIFEST = _ARTICLES / "manifest.csv"
_SPLITS = ("dev", "test")
_CUTOFF = dt.date(2025, 1, 1)
_MINIMUM = {"ru": 20, "uk": 8, "en": 12}
_ID = re.compile(r"^(ru|uk|en)_\d{3}_[0-9a-f]{8}$")
_COLUMNS = (
    "id",
    "split",
    "language",
    "outlet",
    "url",
    "published",
    "date_established",
    "event_group",
    "trimmed",
)


def _rows() -> list[dict[str, str]]:
    with _MANIFEST.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == _COLUMNS
        return list(reader)


_ROWS = _rows()


def _path(row: dict[str, str]) -> Path:
    return _ARTICLES / row["split"] / f"{row['id']}.txt"


def _body(path: Path) -> str:
    """The text after the ` date` header line, as the id's hash was taken."""
    return path.read_text("utf-8").split("\n", 1)[1]


def _normalised(text: str) -> str:
    """Case, punctuation and spacing differ between copies of one wire story."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


def test_manifest_and_files_match_one_to_one() -> None:
    listed = {_path(row).relative_to(_ARTICLES) for row in _ROWS}
    on_disk = {p.relative_to(_ARTICLES) for split in _SPLITS for p in (_ARTICLES / split).glob("*")}
    assert listed == on_disk
    ids = [row["id"] for row in _ROWS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("row", _ROWS, ids=lambda row: row["id"])
def test_article_is_dated_sourced_and_loads_as_listed(row: dict[str, str]) -> None:
    assert row["split"] in _SPLITS
    assert _ID.match(row["id"]), row["id"]
    assert row["id"].startswith(f"{row['language']}_")
    url = urlparse(row["url"])
    assert url.scheme in {"http", "https"} and url.netloc, row["url"]
    assert row["outlet"].strip()
    assert row["date_established"].strip()
    assert row["trimmed"].strip(), "say 'none' when nothing was trimmed"
    published = dt.date.fromisoformat(row["published"])
    assert published < _CUTOFF

    article = load_article(_path(row))
    assert article.published == published
    assert article.language == row["language"]
    assert article.id == row["id"]
    digest = hashlib.sha256(_body(_path(row)).encode("utf-8")).hexdigest()[:8]
    assert row["id"].endswith(digest), "the id's hash is of the text: edit the text, renew the id"


def test_no_article_repeats_another_or_a_seed() -> None:
    texts = {row["id"]: _normalised(load_article(_path(row)).text) for row in _ROWS}
    texts |= {p.stem: _normalised(load_article(p).text) for p in (_ROOT / "seeds").glob("*.txt")}
    seen: dict[str, str] = {}
    for key, text in texts.items():
        assert text not in seen, f"{key} repeats {seen.get(text)}"
        seen[text] = key
    # A copy with a line added or cut still shares long runs of words: compare 12-word shingles.
    owner: dict[tuple[str, ...], str] = {}
    shared: Counter[tuple[str, str]] = Counter()
    for key, text in texts.items():
        words = text.split()
        for shingle in {tuple(words[i : i + 12]) for i in range(len(words) - 11)}:
            if shingle in owner:
                shared[tuple(sorted((owner[shingle], key)))] += 1
            else:
                owner[shingle] = key
    assert not [pair for pair, n in shared.items() if n >= 5], shared.most_common(3)


def test_languages_meet_the_minimums_and_both_splits_have_each() -> None:
    total = Counter(row["language"] for row in _ROWS)
    for language, minimum in _MINIMUM.items():
        assert total[language] >= minimum, (language, total[language])
        for split in _SPLITS:
            in_split = sum(r["language"] == language and r["split"] == split for r in _ROWS)
            assert abs(2 * in_split - total[language]) <= 2, (language, split, in_split)


def test_same_event_groups_are_two_or_three_articles_in_one_split() -> None:
    groups: dict[str, list[dict[str, str]]] = {}
    for row in _ROWS:
        if row["event_group"]:
            groups.setdefault(row["event_group"], []).append(row)
    assert len(groups) >= 4
    for name, members in groups.items():
        assert 2 <= len(members) <= 3, name
        assert len({m["split"] for m in members}) == 1, f"{name} straddles dev and test"
        assert len({m["outlet"] for m in members}) == len(members), f"{name} repeats an outlet"
