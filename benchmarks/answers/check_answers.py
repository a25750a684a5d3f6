"""Check a player's answers against their requests' JSON Schemas: form only, not content.

Usage: python benchmarks/answers/check_answers.py FOLDER, where FOLDER holds `requests/` (pending
requests as `answer_server.py` writes them) and `answers/` (`{"key": ..., "answer": {...}}`).
Needs `jsonschema` (installed with the `[ray]` extra, or `pip install jsonschema`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema


def main(folder: Path) -> int:
    invalid = 0
    for request_file in sorted((folder / "requests").glob("*.json")):
        answer_file = folder / "answers" / request_file.name
        if not answer_file.exists():
            print("unanswered", request_file.name)
            continue
        request = json.loads(request_file.read_text("utf-8"))
        answer = json.loads(answer_file.read_text("utf-8"))
        if answer.get("key") != request["key"]:
            print("wrong key", request_file.name)
            invalid += 1
            continue
        try:
            jsonschema.validate(answer["answer"], request["schema"])
        except jsonschema.ValidationError as err:
            invalid += 1
            print("invalid", request_file.name, err.message[:200])
    print("invalid:", invalid)
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
