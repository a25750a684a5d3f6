"""Errors users see, grouped by who must act: the user, the model, or us."""

from __future__ import annotations

__all__ = [
    "ArticleError",
    "ConfigError",
    "ExtractError",
    "ModelOutputError",
    "ResultsError",
    "TransportError",
]


class ExtractError(Exception):
    """Root of every error the CLI turns into a one-line message."""


class ArticleError(ExtractError):
    """The input article cannot be read as text: the user must fix the file."""


class ConfigError(ExtractError):
    """A setting, model name, endpoint or path is wrong: the user must fix it."""


class ResultsError(ConfigError):
    """A stored results file cannot be read: the message names the file and line to fix
    (a path the user gave, so a `ConfigError` too: a run does not start on it)."""


class ModelOutputError(ExtractError):
    """The model's answer is unusable after every re-ask; keeps the raw reply."""

    def __init__(self, message: str, *, raw: str | None = None, failure: str = "parse") -> None:
        super().__init__(message)
        self.raw = raw
        self.failure = failure
        """`ExtractionResult.failure`: parse, schema or truncated."""


class TransportError(ExtractError):
    """The endpoint could not be reached or kept failing after every retry."""
