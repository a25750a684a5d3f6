"""Evidence from offsets: the baseline knows where its sentences are, grounding confirms it."""

from __future__ import annotations

from llm_extract.ground import ground_quote
from llm_extract.schemas import Evidence

__all__ = ["span_evidence"]


def span_evidence(text: str, start: int, end: int) -> Evidence:
    """The evidence for `text[start:end]`, trimmed of outer white space; offsets always hold."""
    piece = text[start:end]
    start += len(piece) - len(piece.lstrip())
    end = start + len(piece.strip())
    evidence = ground_quote(text[start:end], text, hint=start)
    if evidence.start != start or evidence.end != end:  # an equal passage earlier wins: keep ours
        raise AssertionError(
            f"grounding moved the span {start}:{end} to {evidence.start}:{evidence.end}"
        )
    return evidence
