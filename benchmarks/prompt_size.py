"""Prompt size per article in tokens: input, output, and the identical prefix providers cache.

    .venv/bin/python benchmarks/prompt_size.py [--mode json_schema] [--answers DIR] [--json]

Builds each seed's first request exactly as the engine sends it (`Extractor.first_requests`)
and counts it with the o200k_base tokenizer (`bpe-openai`, offline): the schema (as tools or
response_format) then each message's text, as `benchmarks/answer_server.py` counts usage.
`prefix` is the longest run of tokens every article's request starts with (the system
prompt and schema, which providers cache), and `prefix share` its part of the mean input.
Output is the tokens of an answer: the seed's gold extraction without offsets (what a
complete answer costs), and with `--answers DIR` (answer_server's `<key>.json` files) the
recorded answers to these very requests.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from statistics import mean
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SEEDS, gold_answers
from answer_server import count_tokens, input_text, request_key

from llm_extract.articles import load_article
from llm_extract.extraction import Extractor
from llm_extract.settings import EndpointSettings


def _common_prefix(sequences: list[list[int]]) -> int:
    first = sequences[0]
    length = min(len(s) for s in sequences)
    for at in range(length):
        if any(s[at] != first[at] for s in sequences):
            return at
    return length


def measure(mode: str, answers: Path | None) -> dict[str, Any]:
    from answer_server import _encoding

    extractor = Extractor(
        EndpointSettings.from_env("fixture-size", base_url="http://127.0.0.1:9/v1", mode=mode)
    )
    golds = gold_answers()
    rows, encoded = [], []
    for seed in SEEDS:
        article = load_article(seed)
        [request] = extractor.first_requests(article)
        tokens = _encoding().encode(input_text(request))
        encoded.append(tokens)
        gold = next(g for paragraphs, g in golds if any(p in article.text for p in paragraphs))
        row: dict[str, Any] = {
            "article": article.id,
            "input_tokens": len(tokens),
            "gold_output_tokens": count_tokens(json.dumps(gold, ensure_ascii=False)),
        }
        recorded = answers / f"{request_key(request)}.json" if answers else None
        if recorded is not None and recorded.is_file():
            answer = json.loads(recorded.read_text("utf-8"))["answer"]
            text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
            row["answer_output_tokens"] = count_tokens(text)
        rows.append(row)
    system = extractor.prompt.system if extractor.prompt else ""
    schema = request.get("tools") or request.get("response_format")
    prefix = _common_prefix(encoded)
    mean_input = mean(r["input_tokens"] for r in rows)
    return {
        "mode": mode,
        "tokenizer": "o200k_base",
        "system_chars": len(system),
        "system_tokens": count_tokens(system),
        "schema_chars": len(json.dumps(schema, ensure_ascii=False)),
        "schema_tokens": count_tokens(json.dumps(schema, ensure_ascii=False)),
        "mean_input_tokens": round(mean_input, 1),
        "prefix_tokens": prefix,
        "prefix_share": round(prefix / mean_input, 3),
        "mean_gold_output_tokens": round(mean(r["gold_output_tokens"] for r in rows), 1),
        "articles": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", default="json_schema", choices=["tools", "json_schema", "json"])
    parser.add_argument("--answers", type=Path, help="answer_server's folder of <key>.json.")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    args = parser.parse_args()
    report = measure(args.mode, args.answers)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    print(
        f"mode {report['mode']}, tokenizer {report['tokenizer']}: system prompt "
        f"{report['system_chars']:,} chars / {report['system_tokens']:,} tokens, schema "
        f"{report['schema_chars']:,} chars / {report['schema_tokens']:,} tokens"
    )
    print(f"{'article':26} {'input':>7} {'gold out':>9} {'answer out':>11}")
    for row in report["articles"]:
        answer = row.get("answer_output_tokens", "—")
        print(f"{row['article']:26} {row['input_tokens']:>7,} {row['gold_output_tokens']:>9,} "
              f"{answer:>11}")  # fmt: skip
    print(
        f"mean input {report['mean_input_tokens']:,.0f} tokens; identical prefix "
        f"{report['prefix_tokens']:,} tokens = {report['prefix_share']:.0%} of the input; "
        f"mean gold output {report['mean_gold_output_tokens']:,.0f} tokens"
    )


if __name__ == "__main__":
    main()
