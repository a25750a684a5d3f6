"""LangExtract over the benchmark server: run by `throughput.py` with LangExtract's own python.

    <venv>/bin/python benchmarks/langextract_driver.py URL MODEL KEY CONCURRENCY LIST.json

LIST.json names the article files. LangExtract's OpenAI provider is pointed at
the loopback server with base_url; one chunk per article (max_char_buffer above
any article's length) and `CONCURRENCY` calls in flight (max_workers and
batch_length), so its calls are comparable to ours. Prints one JSON line:
documents, failed, wall_s, cpu_s, version. This file imports nothing of
llm_extract: LangExtract pins another openai than ours.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

import langextract as lx
from langextract.providers.openai import OpenAILanguageModel

EXAMPLES = Path(__file__).resolve().parent.parent / "prompts" / "examples"
PROMPT = (
    "Extract the meetings (talks, visits, calls between named sides) and the positions "
    "(stances a named person or side takes) the article states, each with a verbatim quote. "
    "Attributes: for a meeting its status and format, for a position its stance and issue."
)


def _examples() -> list[lx.data.ExampleData]:
    examples = []
    for answer in sorted(EXAMPLES.glob("*.json")):
        extraction = json.loads(answer.read_text("utf-8"))["extraction"]
        items = [
            lx.data.Extraction(
                "meeting",
                m["evidence"][0]["text"],
                attributes={"status": m["status"], "format": m.get("format") or ""},
            )
            for m in extraction["meetings"]
        ]
        items += [
            lx.data.Extraction(
                "position",
                p["evidence"][0]["text"],
                attributes={"stance": p["stance"], "issue": p["issue"]},
            )
            for p in extraction["positions"]
        ]
        text = answer.with_suffix(".txt").read_text("utf-8").strip()
        examples.append(lx.data.ExampleData(text=text, extractions=items))
    return examples


def main() -> None:
    url, model, key, concurrency, listing = sys.argv[1:6]
    workers = int(concurrency)
    paths = [Path(p) for p in json.loads(Path(listing).read_text())]
    documents = [lx.data.Document(text=p.read_text("utf-8"), document_id=p.stem) for p in paths]
    examples = _examples()
    language_model = OpenAILanguageModel(
        model_id=model, api_key=key, base_url=url, max_workers=workers
    )
    cpu, wall = time.process_time(), time.perf_counter()
    annotated = list(
        lx.extract(
            text_or_documents=documents,
            prompt_description=PROMPT,
            examples=examples,
            model=language_model,
            max_char_buffer=100_000,
            batch_length=workers,
            max_workers=workers,
            fence_output=False,
            use_schema_constraints=False,
            show_progress=False,
            prompt_validation_level=lx.prompt_validation.PromptValidationLevel.OFF,
        )
    )
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    failed = sum(1 for doc in annotated if not doc.extractions)
    print(
        json.dumps(
            {
                "documents": len(annotated),
                "failed": failed,
                "wall_s": wall,
                "cpu_s": cpu,
                "version": version("langextract"),
            }
        )
    )


if __name__ == "__main__":
    main()
