"""What one article's model calls counted: the result's usage and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

from openai.types.chat import ChatCompletion

from llm_extract.schemas import PromptInfo, Usage

__all__ = ["CallStats"]


@dataclass
class CallStats:
    """One article's counts across every call it needed: the result's metadata."""

    article_id: str | None = None
    prompt: PromptInfo | None = None
    requests: int = 0
    """Answers received, live or replayed."""
    attempts: int = 0
    """HTTP attempts (transport retries included) plus replayed answers."""
    cached: int = 0
    reasks: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    replayed_input_tokens: int = 0
    replayed_output_tokens: int = 0
    """Tokens of replayed answers: spent by the run that recorded them, not this one."""
    text_answers: int = 0
    """Tools-mode answers accepted from the message text (the server ignored tool_choice)."""
    warnings: list[str] = field(default_factory=list)
    answer_keys: list[str] = field(default_factory=list)
    """Cache keys of the answers this article used: marked if the article fails."""

    @property
    def usage(self) -> Usage:
        return Usage(
            requests=self.requests,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            replayed_input_tokens=self.replayed_input_tokens,
            replayed_output_tokens=self.replayed_output_tokens,
        )

    def add_answer(
        self, response: ChatCompletion, *, cached: bool, key: str | None, spent: bool = False
    ) -> None:
        """`spent`: a cached answer paid for on this run's behalf (a batch answer)."""
        self.requests += 1
        if key is not None:
            self.answer_keys.append(key)
        if cached:
            self.cached += 1
            self.attempts += 1
        usage = getattr(response, "usage", None)
        if usage is None:
            return
        tokens_in = getattr(usage, "prompt_tokens", 0) or 0
        tokens_out = getattr(usage, "completion_tokens", 0) or 0
        if cached and not spent:
            self.replayed_input_tokens += tokens_in
            self.replayed_output_tokens += tokens_out
        else:
            self.input_tokens += tokens_in
            self.output_tokens += tokens_out
