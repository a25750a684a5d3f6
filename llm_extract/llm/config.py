"""A run's call settings: transport (timeout, retries, backoff, pacing) and sampling."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace
from typing import Any

from llm_extract.errors import ConfigError

__all__ = ["ClientConfig"]


@dataclass(frozen=True)
class ClientConfig:
    """Transport and sampling settings; `from_env` reads `LLM_EXTRACT_<FIELD>` overrides."""

    timeout: float = 120.0
    """Seconds to wait for one answer."""
    retries: int = 4
    """Transport retries after the first attempt (re-asks are counted separately)."""
    backoff: float = 1.0
    """First backoff in seconds; doubles per retry, with as much jitter again."""
    backoff_max: float = 30.0
    retry_after_max: float = 300.0
    """A server asking for a longer wait than this fails the call instead."""
    rpm: float | None = None
    """Requests per minute across the run (attempts and re-asks included)."""
    temperature: float | None = None
    """Sent only when set: reasoning models accept none but their own default."""
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        """A zero or negative cap would silently mean no cap or no call, and nan or inf
        no wait at all or one forever: refuse them."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number (got {value})")
        positive = {"timeout": self.timeout, "rpm": self.rpm, "max_tokens": self.max_tokens}
        for name, value in positive.items():
            if value is not None and value <= 0:
                raise ConfigError(
                    f"{name} must be more than 0 (got {value:g}); leave it out for none"
                )
        if self.retries < 0:
            raise ConfigError(f"retries must be 0 or more (got {self.retries})")

    @classmethod
    def from_env(cls, **overrides: Any) -> ClientConfig:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"LLM_EXTRACT_{f.name.upper()}")
            if raw is not None:
                kind = int if f.name in ("retries", "max_tokens") else float
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    raise ConfigError(
                        f"LLM_EXTRACT_{f.name.upper()}={raw!r} is not a number"
                    ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)
