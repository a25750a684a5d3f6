"""A generated corpus of results with known events: for the stress test and the events benchmark.

    .venv/bin/python benchmarks/event_corpus.py --mentions 10000 --out corpus.jsonl

Every event is drawn from templates: a pair (now and then three) of sides out of
twenty countries, a head and members per side, a host city, a format and a day
over ten years. It is then reported by one to several articles the way outlets
do: an announcement days before (planned, with or without a date), reports after
it (held) with the members named in one and not in another, names in other cases
and spellings («Стива Уиткоффа», «Виткофф», «Steve Witkoff»), a date a day off
now and then, an undated report, a report without a place. An article carries up
to three meetings of different events. Results are `ExtractionResult` JSON; the
truth maps each mention id (`<article id>#<index>`) to its event.

Events of one pair of sides are at least `_SPACING_DAYS` apart: closer than that,
two meetings with the same people and sides are ambiguous to any reader, and the
stress test measures the resolver, not the ambiguity of the corpus.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_COUNTRIES = (
    "RU", "US", "UA", "CN", "FR", "DE", "GB", "TR", "IN", "JP",
    "BR", "ZA", "EG", "IR", "IL", "SA", "AE", "KZ", "BY", "PL",
)  # fmt: skip
_CITIES = {
    "RU": ["Москва", "Санкт-Петербург", "Сочи"],
    "US": ["Вашингтон", "Майами", "Нью-Йорк"],
    "UA": ["Киев"],
    "CH": ["Женева", "Давос"],
    "AE": ["Абу-Даби", "Дубай"],
    "TR": ["Стамбул", "Анкара"],
    "SA": ["Эр-Рияд"],
    "CN": ["Пекин"],
    "FR": ["Париж"],
    "DE": ["Берлин"],
    "GB": ["Лондон"],
}
_NEUTRAL = ("CH", "AE", "TR", "SA")
_KNOWN = {
    "RU": [
        ("Владимир Путин", ["Владимира Путина", "Путин", "Vladimir Putin"]),
        ("Кирилл Дмитриев", ["Кирилла Дмитриева", "Дмитриев", "Kirill Dmitriev"]),
        ("Юрий Ушаков", ["Юрия Ушакова", "Ушаков"]),
        ("Сергей Лавров", ["Сергея Лаврова", "Лавров", "Sergey Lavrov"]),
    ],
    "US": [
        ("Стив Уиткофф", ["Стива Уиткоффа", "Виткофф", "Steve Witkoff"]),
        ("Джаред Кушнер", ["Джареда Кушнера", "Кушнер", "Jared Kushner"]),
        ("Марко Рубио", ["Рубио", "Marco Rubio"]),
    ],
}
_GIVEN = ("Иван", "Пётр", "Олег", "Артём", "Борис", "Глеб", "Денис", "Егор", "Илья", "Максим")
_SURNAMES = (
    "Арсланов", "Беляев", "Воронов", "Громов", "Добрынин", "Ершов", "Жуков", "Зайцев",
    "Игнатов", "Калинин", "Лебедев", "Морозов", "Назаров", "Орлов", "Панов", "Родионов",
    "Савельев", "Тихонов", "Уваров", "Фомин", "Харитонов", "Цветков", "Чернов", "Шубин",
)  # fmt: skip
_PEOPLE_PER_SIDE = 6
_SPACING_DAYS = 7
_START = dt.date(2016, 1, 4)
_DAYS = 3650
"""Ten years at least; a larger corpus spans more (`generate`), keeping events as dense."""


@dataclass(frozen=True)
class _Person:
    name: str
    spellings: tuple[str, ...]


def _people(rng: random.Random) -> dict[str, list[_Person]]:
    """Six people a side: the alias table's for RU and US first, invented ones (unique) after."""
    names = [(g, s) for s in _SURNAMES for g in _GIVEN]
    rng.shuffle(names)
    out: dict[str, list[_Person]] = {}
    for side in _COUNTRIES:
        people = [_Person(n, (n, *forms)) for n, forms in _KNOWN.get(side, [])]
        while len(people) < _PEOPLE_PER_SIDE:
            given, surname = names.pop()
            name = f"{given} {surname}"
            genitive = (
                f"{given}а {surname}а" if not given.endswith("й") else f"{given[:-1]}я {surname}а"
            )
            people.append(_Person(name, (name, genitive, surname)))
        out[side] = people
    return out


def _pairs(rng: random.Random) -> list[tuple[str, ...]]:
    """Sides of an event: every pair of countries, RU-US and RU-UA-US drawn more often."""
    pairs = [(a, b) for i, a in enumerate(_COUNTRIES) for b in _COUNTRIES[i + 1 :]]
    return pairs + [("RU", "US")] * 10 + [("UA", "US")] * 5 + [("RU", "UA", "US")] * 3


def _date(day: dt.date, off_by: int = 0) -> dict[str, Any]:
    day = day + dt.timedelta(days=off_by)
    return {"start": day.isoformat(), "text": f"{day.day} числа"}


def generate(mentions: int, seed: int = 0) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """About `mentions` meeting mentions as results, and each mention's true event id."""
    rng = random.Random(seed)
    people = _people(rng)
    pairs = _pairs(rng)
    taken: dict[tuple[str, ...], set[int]] = defaultdict(set)
    days = max(_DAYS, mentions // 2)
    reports: list[tuple[dt.date, str, dict[str, Any]]] = []
    number = 0
    while len(reports) < mentions:
        sides = rng.choice(pairs)
        offset = rng.randrange(days)
        near = range(offset - _SPACING_DAYS + 1, offset + _SPACING_DAYS)
        if any(day in taken[sides] for day in near):
            continue
        taken[sides].add(offset)
        event_id = f"e{number:06d}"
        number += 1
        reports += _reports(event_id, sides, _START + dt.timedelta(days=offset), people, rng)
    reports.sort(key=lambda r: (r[0], r[1]))
    return _articles(reports, rng)


def _reports(
    event_id: str,
    sides: tuple[str, ...],
    day: dt.date,
    people: dict[str, list[_Person]],
    rng: random.Random,
) -> list[tuple[dt.date, str, dict[str, Any]]]:
    form = rng.choices(["in_person", "phone", "video"], [0.85, 0.1, 0.05])[0]
    host = rng.choice([s for s in sides if s in _CITIES] or list(_NEUTRAL))
    if rng.random() < 0.2:
        host = rng.choice(_NEUTRAL)
    city = rng.choice(_CITIES[host]) if form == "in_person" else None
    lasts = 2 if form == "in_person" and rng.random() < 0.15 else 1
    cast = {s: rng.sample(people[s], 1 + rng.randrange(3)) for s in sides}
    out = []
    if rng.random() < 0.3:
        published = day - dt.timedelta(days=1 + rng.randrange(7))
        dated = rng.random() < 0.8
        out.append(
            (
                published,
                event_id,
                _meeting(
                    "planned", form, day if dated else None, 1, city, host, cast, rng, members=False
                ),
            )
        )
    for _ in range(1 + min(rng.randrange(5), rng.randrange(5))):
        published = day + dt.timedelta(days=lasts - 1 + rng.randrange(4))
        roll = rng.random()
        when = None if roll < 0.1 else day
        off_by = 1 if 0.1 <= roll < 0.15 else 0
        meeting = _meeting(
            "held",
            form,
            when,
            lasts,
            city if rng.random() < 0.85 else None,
            host,
            cast,
            rng,
            off_by=off_by,
        )
        out.append((published, event_id, meeting))
    return out


def _meeting(
    status: str,
    form: str,
    day: dt.date | None,
    lasts: int,
    city: str | None,
    host: str,
    cast: dict[str, list[_Person]],
    rng: random.Random,
    *,
    members: bool = True,
    off_by: int = 0,
) -> dict[str, Any]:
    delegations = []
    for side, team in cast.items():
        head, *others = team
        named = [p for p in others if members and rng.random() < 0.7]
        delegations.append(
            {
                "side": side,
                "head": {"name": rng.choice(head.spellings)},
                "members": [{"name": rng.choice(p.spellings)} for p in named],
            }
        )
    date = None
    if day is not None:
        date = _date(day, off_by)
        if lasts > 1:
            date["end"] = (day + dt.timedelta(days=lasts - 1 + off_by)).isoformat()
    return {
        "status": status,
        "format": form,
        "date": date,
        "location": {"place": city, "country": host} if city else None,
        "delegations": delegations,
        "topics": ["двусторонние отношения"],
        "evidence": [{"text": f"Состоялись переговоры ({status})."}],
    }


def _articles(
    reports: list[tuple[dt.date, str, dict[str, Any]]], rng: random.Random
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Pack each day's reports into articles of one to three meetings of different events."""
    results: list[dict[str, Any]] = []
    truth: dict[str, str] = {}
    at = 0
    while at < len(reports):
        published = reports[at][0]
        size = rng.choices([1, 2, 3], [0.7, 0.2, 0.1])[0]
        batch: list[tuple[str, dict[str, Any]]] = []
        while at < len(reports) and reports[at][0] == published and len(batch) < size:
            if any(event == reports[at][1] for event, _ in batch):
                break
            batch.append(reports[at][1:])  # type: ignore[arg-type]
            at += 1
        article_id = f"gen-{len(results):07d}"
        for index, (event_id, _) in enumerate(batch):
            truth[f"{article_id}#{index}"] = event_id
        results.append(
            {
                "article_id": article_id,
                "source": f"{article_id}.txt",
                "published": published.isoformat(),
                "model": "fixture-generated",
                "status": "ok",
                "extraction": {"meetings": [m for _, m in batch], "positions": []},
            }
        )
    return results, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="Results JSONL to write.")
    parser.add_argument("--truth", type=Path, help="Also write {mention id: event id} here.")
    args = parser.parse_args()
    results, truth = generate(args.mentions, args.seed)
    with args.out.open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result, ensure_ascii=False) + "\n")
    if args.truth:
        args.truth.write_text(json.dumps(truth), encoding="utf-8")
    print(
        f"{len(truth)} mentions of {len(set(truth.values()))} events in {len(results)} results",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
