"""Publication dates: every form an article states them in, and the ones a user gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from llm_extract.articles import load_article, read_dates
from llm_extract.errors import ConfigError

MARCH_5 = dt.date(2026, 3, 5)
BODY = "Вчера министры встретились в Женеве."


@pytest.mark.parametrize(
    "text",
    [
        f"Date: 2026-03-05\n{BODY}",
        f"date: 2026-03-05\n{BODY}",
        f"Published: 2026-03-05\n{BODY}",
        f"Published: March 5, 2026\n{BODY}",
        f"Опубликовано: 05.03.2026\n{BODY}",
        f"2026-03-05\n{BODY}",
        f"2026-03-05T09:30:00+02:00\n{BODY}",
        f"March 5, 2026\n{BODY}",
        f"Headline\nGENEVA, March 5, 2026 — {BODY}",
        f"GENEVA (Reuters), 5 March 2026 - {BODY}",
        "КИЇВ, 5 березня 2026 — Учора міністри зустрілися.",
        "Заголовок\n5 березня 2026 року, 10:15\nУчора міністри зустрілися.",
        f"СТАМБУЛ, 5 марта 2026 года. {BODY}",
        '<html><head><meta property="article:published_time" content="2026-03-05T08:00:00Z">'
        f"</head><body><p>{BODY}</p></body></html>",
        '<html><head><meta itemprop="datePublished" content="2026-03-05"></head>'
        f"<body><p>{BODY}</p></body></html>",
        '<html><body><article><time datetime="2026-03-05T10:00">5 марта</time>'
        f"<p>{BODY}</p></article></body></html>",
    ],
)
def test_every_listed_form_gives_the_publication_date(text: str) -> None:
    assert load_article(text).published == MARCH_5


@pytest.mark.parametrize(
    "text",
    [
        "Министры встретились 2 декабря 2025 года в Женеве.",  # inside a sentence: an event's
        "Date: 2026-02-30\nТекст.",  # not a real day
        "The talks of March 5, 2026 were short.",
    ],
)
def test_dates_that_are_not_the_publication_date(text: str) -> None:
    assert load_article(text).published is None


def test_html_meta_wins_over_a_date_in_the_text() -> None:
    page = (
        '<html><head><meta property="article:published_time" content="2026-03-05"></head>'
        "<body><p>4 марта 2026, 10:00</p><p>Текст.</p></body></html>"
    )
    assert load_article(page).published == MARCH_5


def test_a_given_date_wins_over_the_stated_one(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(f"Date: 2026-01-01\n{BODY}", encoding="utf-8")
    assert load_article(path, published=MARCH_5).published == MARCH_5
    assert load_article(BODY, published=MARCH_5).published == MARCH_5


def test_dates_csv_by_path_name_or_stem(tmp_path: Path) -> None:
    table = tmp_path / "dates.csv"
    table.write_text(
        "file,published\narticles/a.txt,2026-03-05\nb.html,2026-03-06\nc,2026-03-07\n",
        encoding="utf-8",
    )
    assert read_dates(table) == {
        "a": MARCH_5,
        "b": dt.date(2026, 3, 6),
        "c": dt.date(2026, 3, 7),
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a.txt,2026-03-05\nb.txt,5 March\n", r"dates\.csv:2: '5 March' is not a date"),
        ("a.txt\n", "expected two columns"),
        ("a.txt,2026-03-05\na.txt,2026-03-06\n", "given two dates"),
    ],
)
def test_dates_csv_errors_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    table = tmp_path / "dates.csv"
    table.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        read_dates(table)
