from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from llm_extract.articles import MAX_ARTICLE_BYTES, detect_language, load_article
from llm_extract.errors import ArticleError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_DATES = {
    "000_5fadb3ca50ee0a75": dt.date(2026, 1, 23),
    "001_072b93646ec39602": dt.date(2026, 1, 21),
    "002_6fcc6f4572df1a85": dt.date(2025, 12, 26),
    "003_f9a86f3078cf3c0b": dt.date(2026, 2, 1),
    "004_1ccdb289d609ce85": dt.date(2026, 1, 31),
}


@pytest.mark.parametrize("seed_id", sorted(SEED_DATES))
def test_seeds_load_with_publication_date(seed_id: str) -> None:
    article = load_article(SEEDS / f"{seed_id}.txt")
    assert article.id == seed_id
    assert article.published == SEED_DATES[seed_id]
    assert article.language == "ru"
    assert not article.text.startswith(("date", " ")), "the header is not part of the body"
    assert article.text == article.text.strip()


def test_header_is_stripped_and_body_kept_verbatim() -> None:
    raw = (SEEDS / "000_5fadb3ca50ee0a75.txt").read_text("utf-8")
    article = load_article(SEEDS / "000_5fadb3ca50ee0a75.txt")
    assert raw.startswith(" date 2026-01-23 ")
    assert article.text == raw[len(" date 2026-01-23 ") :].strip()


def test_dateline_in_body_gives_publication_date() -> None:
    article = load_article(SEEDS / "003_f9a86f3078cf3c0b.txt")
    assert "1 февраля 2026, 07:12" in article.text


def test_a_date_deep_in_body_is_not_a_dateline() -> None:
    text = "Заголовок.\n" + "Слово. " * 200 + "Встреча прошла 5 марта 2025 года."
    assert load_article(text).published is None


def test_text_argument_is_taken_as_the_article(tmp_path: Path) -> None:
    article = load_article("Путин встретился с Уиткоффом.")
    assert article.source == "<text>"
    assert article.id.startswith("text-")
    assert article.text == "Путин встретился с Уиткоффом."


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff date 2026-01-21 Первая строка.\r\nВторая строка.".encode())
    article = load_article(path)
    assert article.published == dt.date(2026, 1, 21)
    assert article.text == "Первая строка.\nВторая строка."


def test_cp1251_is_detected_and_decoded(tmp_path: Path) -> None:
    body = (SEEDS / "001_072b93646ec39602.txt").read_text("utf-8")
    path = tmp_path / "cp1251.txt"
    path.write_bytes(body.encode("cp1251"))
    article = load_article(path)
    assert article.encoding.replace("_", "").lower() in {"cp1251", "windows1251"}
    assert article.text == load_article(SEEDS / "001_072b93646ec39602.txt").text


def test_html_is_reduced_to_text(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<!DOCTYPE html><html><head><title>t</title><script>var x = 1;</script></head>"
        "<body><h1>Переговоры в Майами</h1><p>Уиткофф встретился с Дмитриевым.</p>"
        "<p>Стороны договорились продолжить диалог.</p></body></html>",
        encoding="utf-8",
    )
    article = load_article(path)
    assert article.text == (
        "Переговоры в Майами\nУиткофф встретился с Дмитриевым.\n"
        "Стороны договорились продолжить диалог."
    )
    assert "var x" not in article.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\t \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b" date 2026-01-21   \n", "no body"),
        (b" date 2026-02-30 Text.", "not a real date"),
        (bytes(range(128, 256)) * 8, "not UTF-8"),
    ],
    ids=["empty", "blank", "binary", "header-only", "bad-header-date", "undecodable"],
)
def test_bad_files_get_their_own_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleError, match=message) as info:
        load_article(path)
    assert str(path) in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="no such file"):
        load_article(tmp_path / "nope.txt")


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"a" * (MAX_ARTICLE_BYTES + 1))
    with pytest.raises(ArticleError, match="limit"):
        load_article(path)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Переговоры прошли в Москве, стороны обсудили мирный план.", "ru"),
        ("Переговори пройшли в Києві, сторони обговорили мирний план і гарантії.", "uk"),
        ("Talks took place in Miami on Saturday.", "en"),
        ("12345 !!!", "und"),
    ],
)
def test_language_from_script(text: str, language: str) -> None:
    assert detect_language(text) == language


RUSSIAN_BODY = (
    "Президент Украины Владимир Зеленский заявил, что делегации встретятся в Женеве. "
    "По его словам, переговоры будут посвящены гарантиям безопасности и обмену пленными. "
) * 12


@pytest.mark.parametrize(
    "opening",
    [
        "«Ми готові до зустрічі, але лише на наших умовах. Україна не відмовиться від своїх "
        "територій, і це наша принципова позиція для будь-яких переговорів.» " * 4,
        "Home News World Business Sign in Subscribe Accept all cookies Privacy policy "
        "Terms of use Contact us Follow us on social media Newsletter " * 4,
    ],
    ids=["ukrainian-quote-first", "english-page-header-first"],
)
def test_a_russian_article_with_a_foreign_opening_is_russian(opening: str) -> None:
    assert len(opening) > 500
    assert detect_language(opening + "\n" + RUSSIAN_BODY) == "ru"


def test_a_given_language_is_kept_and_survives_a_round_trip() -> None:
    text = "Talks took place in Miami on Saturday."
    guessed = load_article(text)
    assert guessed.language == "en"
    given = guessed.model_validate({**guessed.model_dump(), "language": "ru"})
    assert given.language == "ru"
    assert type(given).model_validate(given.model_dump()).language == "ru"


def test_a_mistyped_path_string_is_not_taken_as_text() -> None:
    with pytest.raises(ArticleError, match="no such file"):
        load_article("seeds/nope.txt")


@pytest.mark.parametrize(
    ("line", "published"),
    [
        ("1 февраля 2026, 07:12", dt.date(2026, 2, 1)),
        ("СТАМБУЛ, 9 марта 2026 года.", dt.date(2026, 3, 9)),
        ("23 января 2026", dt.date(2026, 1, 23)),
    ],
)
def test_dateline_shapes(line: str, published: dt.date) -> None:
    assert load_article(f"Заголовок\n{line}\nТекст новости.").published == published


def test_an_event_date_in_a_sentence_is_not_the_publication_date() -> None:
    article = load_article("Путин встретился с Уиткоффом 2 декабря 2025 года в Кремле.")
    assert article.published is None


def test_html_without_visible_text(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><script>var a = 1;</script></head><body></body></html>")
    with pytest.raises(ArticleError, match="no visible text"):
        load_article(path)


def test_latin_legacy_encodings_are_refused_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("El señor García habló con la prensa en Ginebra.".encode("latin-1"))
    with pytest.raises(ArticleError, match="re-save the file as UTF-8"):
        load_article(path)


def test_koi8_r_is_decoded(tmp_path: Path) -> None:
    """koi8-r has no guillemets: the seed is re-quoted with plain quotes first."""
    body = (SEEDS / "002_6fcc6f4572df1a85.txt").read_text("utf-8")
    body = body.replace("«", '"').replace("»", '"').replace("–", "-")
    path = tmp_path / "koi8.txt"
    path.write_bytes(body.encode("koi8_r"))
    assert load_article(path).text == load_article(body).text
