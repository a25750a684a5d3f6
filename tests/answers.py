"""An invented test article and model answers to it, shared by the engine's tests."""

from __future__ import annotations

import copy
from typing import Any

ARTICLE = (
    "Помощник президента России Юрий Ушаков провёл в Женеве переговоры со специальным "
    "посланником США Стивеном Уиткоффом. «Разговор был деловым», — сказал Ушаков журналистам."
)
MEETING_QUOTE = (
    "Юрий Ушаков провёл в Женеве переговоры со специальным посланником США Стивеном Уиткоффом"
)

VALID: dict[str, Any] = {
    "meetings": [
        {
            "status": "held",
            "format": "in_person",
            "location": {"place": "Женева", "country": "CH"},
            "delegations": [
                {"side": "RU", "head": {"name": "Юрий Ушаков"}},
                {"side": "US", "head": {"name": "Стивеном Уиткоффом"}},
            ],
            "evidence": [{"text": MEETING_QUOTE}],
        }
    ],
    "positions": [
        {
            "holder": {"name": "Юрий Ушаков"},
            "side": "RU",
            "issue": "переговоры с Уиткоффом",
            "stance": "assessment",
            "summary": "Ушаков назвал разговор деловым.",
            "quote": {"text": "Разговор был деловым"},
            "speech": "direct",
            "evidence": [{"text": "«Разговор был деловым», — сказал Ушаков журналистам."}],
        }
    ],
}

INVALID: dict[str, Any] = {"meetings": [{"status": "finished", "evidence": []}], "positions": []}
"""Fails validation twice: an unknown status and an empty evidence list."""


def answer(**changes: Any) -> dict[str, Any]:
    """VALID with the first meeting's fields changed."""
    result = copy.deepcopy(VALID)
    result["meetings"][0].update(changes)
    return result


def article_of(request: Any) -> str:
    """The article text a recorded chat request carries between its marker lines."""
    messages = request.json["messages"]
    user = next(m["content"] for m in messages if m["role"] == "user")
    marker = next(line for line in user.splitlines() if line.startswith("=====ARTICLE-"))
    return user.split("\n" + marker + "\n", 1)[1].rsplit("\n" + marker, 1)[0]
