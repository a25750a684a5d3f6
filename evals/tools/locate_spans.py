"""Fill the offsets of every quote in a gold file, refusing any quote that is not verbatim.

Gold is written by hand with each evidence's `text` only; this pins each one to
`Article.text` of its article (`seeds/<gold file stem>.txt` for the seed gold, or
`evals/articles/<set>/<stem>.txt` for `evals/gold/<set>/<stem>.json`), so that
`article.text[start:end] == text` and `match` is "exact". A quote that is not an
exact substring is an error: gold never relies on normalised or fuzzy matching.
Offsets that already hold are kept; a quote found more than once otherwise
takes the first occurrence and says so.

    .venv/bin/python evals/tools/locate_spans.py evals/gold/*.json evals/gold/*/*.json [--check]

With --check nothing is written or moved; the exit code says whether every
span already holds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from llm_extract import ArticleExtraction, load_article
from llm_extract.score import EVENTS_GOLD_FILE

_ROOT = Path(__file__).resolve().parents[2]


def _evidence(data: dict) -> list[tuple[str, dict]]:
    """(where, evidence dict) for every evidence and quote in a raw gold dict."""
    found = []
    for i, meeting in enumerate(data.get("meetings", [])):
        found += [(f"meetings[{i}].evidence[{j}]", e) for j, e in enumerate(meeting["evidence"])]
    for i, position in enumerate(data.get("positions", [])):
        found += [(f"positions[{i}].evidence[{j}]", e) for j, e in enumerate(position["evidence"])]
        if position.get("quote"):
            found.append((f"positions[{i}].quote", position["quote"]))
    return found


def _locate(where: str, evidence: dict, text: str, *, fix: bool) -> list[str]:
    quote = evidence["text"]
    start = evidence.get("start")
    if start is not None:
        end = start + len(quote)
        if text[start:end] == quote and evidence.get("end", end) == end:
            evidence.update(end=end, match="exact")
            return []
        if not fix:
            return [f"error: {where}: offsets {start}:{evidence.get('end')} do not hold"]
    first = text.find(quote)
    if first < 0:
        return [f"error: {where}: not a verbatim substring of the article: {quote!r}"]
    evidence.update(start=first, end=first + len(quote), match="exact")
    if text.find(quote, first + 1) >= 0:
        return [f"note: {where}: {quote!r} occurs more than once; took the first"]
    return []


def article_of(gold: Path) -> Path:
    """The article a gold file labels: its set's folder of texts, or the seeds."""
    in_set = _ROOT / "evals" / "articles" / gold.resolve().parent.name / f"{gold.stem}.txt"
    return in_set if in_set.is_file() else _ROOT / "seeds" / f"{gold.stem}.txt"


def locate_file(path: Path, *, write: bool) -> bool:
    """Pin every quote of one gold file; True when all are exact."""
    text = load_article(article_of(path)).text
    data = json.loads(path.read_text("utf-8"))
    messages = [m for where, e in _evidence(data) for m in _locate(where, e, text, fix=write)]
    for message in messages:
        print(f"{path.name}: {message}", file=sys.stderr)
    ok = not any(m.startswith("error") for m in messages)
    extraction = ArticleExtraction.model_validate(data)
    if ok and write:
        dumped = extraction.model_dump(mode="json", exclude_none=True)
        path.write_text(json.dumps(dumped, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report only; write nothing")
    args = parser.parse_args()
    per_article = [path for path in args.gold if path.name != EVENTS_GOLD_FILE]  # not spans
    results = [locate_file(path, write=not args.check) for path in per_article]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
