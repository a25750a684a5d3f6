"""A loopback OpenAI-compatible server that answers from a folder of recorded answers.

    python benchmarks/answer_server.py --answers DIR --pending DIR [--port 0]   # prints its URL

For measuring a prompt with a capable model without a network: whoever plays the model
reads the requests the engine sent and writes the answers; rerunning the same command
then completes each article, re-asks included (a re-ask is one more request, written to
`pending/` on the run that first makes it).

- Each chat request is keyed by `request_key`: a hash of what the model sees (the
  messages, and the schema as tools or response_format), not of the model name,
  temperature or token limit.
- `ANSWERS/<key>.json` answers it: `{"key": ..., "answer": {...}}`, where `answer` is the
  JSON object the model fills (sent as a tool call or as content, as the request's mode
  asks) or a string sent verbatim (malformed JSON, a refusal).
- A request with no answer is written to `PENDING/<key>.json` (and removed once answered) (`key`, `model`, `mode`,
  `messages`, `schema`, `answer_to`) and gets HTTP 400 "pending": the article fails
  this run and is retried by the next (`extract --out F --retry-failed`).
- Usage in every answer is counted with the o200k_base tokenizer (`bpe-openai`, offline):
  input = the messages' contents and the schema, output = the answer; see
  `benchmarks/prompt_size.py` for the per-article table.

The answers are hand-written by whoever plays the model: name the model `fixture-...`
(`-m fixture-capable`), never as a real model's output. Format: `/work/annot/PENDING_FORMAT.md`
and benchmarks/README.md. It binds 127.0.0.1 only and stops on Ctrl-C, when its stdin closes (unless
`--ignore-stdin`) or after `--max-seconds`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from loopback import LoopbackServer, RecordedRequest, Reply

from llm_extract.fixtures import fixture_completion

__all__ = ["AnswerResponder", "count_tokens", "request_key", "request_schema"]

_SEEN_FIELDS = ("messages", "tools", "tool_choice", "response_format")
"""What the model sees; the rest (model, temperature, max_tokens) does not change the answer."""


def request_key(body: dict[str, Any]) -> str:
    """The answer's file name: a hash of the request's messages and schema."""
    seen = {name: body.get(name) for name in _SEEN_FIELDS}
    blob = json.dumps(seen, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def request_mode(body: dict[str, Any]) -> str:
    if body.get("tools"):
        return "tools"
    kind = (body.get("response_format") or {}).get("type")
    return {"json_schema": "json_schema", "json_object": "json"}.get(kind, "md_json")


def request_schema(body: dict[str, Any]) -> Any:
    """The JSON Schema the request asks the answer to fill (md_json: it is in the messages)."""
    if body.get("tools"):
        return body["tools"][0]["function"].get("parameters")
    response_format = body.get("response_format") or {}
    return (response_format.get("json_schema") or {}).get("schema")


@cache
def _encoding() -> Any:
    import bpe_openai

    return bpe_openai.get_encoding("o200k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text))


def input_text(body: dict[str, Any]) -> str:
    """What is counted as the request's input: the schema, then each message's text."""
    schema = body.get("tools") or body.get("response_format")
    parts = [json.dumps(schema, ensure_ascii=False)] if schema else []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(str(part.get("text", "")) for part in content)
        parts.append(str(content or ""))
        for call in message.get("tool_calls") or []:
            parts.append(call["function"]["arguments"])
    return "\n".join(parts)


class AnswerResponder:
    """Answers chat requests from `answers/`, writes the rest to `pending/`."""

    def __init__(self, answers: Path, pending: Path) -> None:
        self.answers = answers
        self.pending = pending
        self.lock = threading.Lock()
        self.answered = 0
        self.unanswered = 0

    def __call__(self, request: RecordedRequest) -> Reply:
        if request.path.removeprefix("/v1") != "/chat/completions":
            return Reply(404, {"error": {"message": f"answer server: no route {request.path}"}})
        body = request.json
        key = request_key(body)
        path = self.answers / f"{key}.json"
        if not path.is_file():
            self._write_pending(key, body)
            return Reply(
                400,
                {"error": {"message": f"pending: no answer yet; the request is in "
                                      f"{self.pending / (key + '.json')}"}},
            )  # fmt: skip
        (self.pending / f"{key}.json").unlink(missing_ok=True)  # answered: no longer pending
        recorded = json.loads(path.read_text("utf-8"))
        answer = recorded["answer"]
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        usage = (count_tokens(input_text(body)), count_tokens(text))
        with self.lock:
            self.answered += 1
        model = body.get("model", "fixture-answers")
        return Reply(200, fixture_completion(body, text, model=model, number=1, usage=usage))

    def _write_pending(self, key: str, body: dict[str, Any]) -> None:
        record = {
            "key": key,
            "model": body.get("model"),
            "mode": request_mode(body),
            "messages": body.get("messages", []),
            "schema": request_schema(body),
            "answer_to": str(self.answers / f"{key}.json"),
        }
        self.pending.mkdir(parents=True, exist_ok=True)
        target = self.pending / f"{key}.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, ensure_ascii=False, indent=1), "utf-8")
        temporary.replace(target)
        with self.lock:
            self.unanswered += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=Path, required=True, help="Folder of <key>.json answers.")
    parser.add_argument("--pending", type=Path, required=True, help="Where unanswered go.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port.")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="Stop after this long.")
    parser.add_argument(
        "--ignore-stdin",
        action="store_true",
        help="Keep serving when stdin closes (`&` in a script).",
    )
    args = parser.parse_args()
    responder = AnswerResponder(args.answers, args.pending)
    server = LoopbackServer(responder, port=args.port).start()
    print(server.url, flush=True)
    done = threading.Event()
    if not args.ignore_stdin:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        done.wait(args.max_seconds)
    server.stop()
    print(f"answered {responder.answered}, pending {responder.unanswered}", file=sys.stderr)


if __name__ == "__main__":
    main()
