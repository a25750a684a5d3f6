"""The one module that touches instructor's internals: an instructor upgrade changes this file.

The engine uses instructor's per-mode handlers (request, parse, re-ask) from its
registry rather than `instructor.create()` per call (see `llm_extract.llm.modes`),
its provider list and `from_provider` to resolve `provider/model` names, and its
exception for an answer cut off at the token limit.
"""

from __future__ import annotations

import logging
from typing import Any

from instructor import Mode
from instructor.core import IncompleteOutputException
from instructor.v2.core.providers import Provider
from instructor.v2.core.registry import mode_registry

from llm_extract import settings

__all__ = [
    "MODES",
    "OPENAI",
    "IncompleteOutputException",
    "Provider",
    "from_provider",
    "handlers",
    "providers",
]

MODES: dict[str, Mode] = {name: Mode[name.upper()] for name in settings.MODES}
"""Our names for instructor's modes (`settings.MODES`, the CLI's `--mode` choices):
`tools` is `Mode.TOOLS`, `md_json` is `Mode.MD_JSON`, and so on."""

_MODE_NAMES = {mode: name for name, mode in MODES.items()}
OPENAI = Provider.OPENAI
"""The provider of every OpenAI-compatible endpoint."""


def handlers(provider: Provider, mode: str) -> Any:
    """instructor's request, parse and re-ask handlers of one mode of one provider."""
    return mode_registry.get_handlers(provider, MODES[mode])


def providers() -> set[str]:
    """The `provider/` prefixes instructor's `from_provider` knows."""
    from instructor.v2.auto_client import supported_providers

    return set(supported_providers)


def from_provider(model: str, **kwargs: Any) -> tuple[Any, Provider, str | None, Mode]:
    """instructor's async client for `provider/model` (`mode` by our name): the SDK client,
    its provider, the mode it picked by our name (None if not one of ours) and as itself.

    instructor logs a traceback for what the caller reports in a line: silenced here.
    """
    import instructor

    if "mode" in kwargs:
        kwargs["mode"] = MODES[kwargs["mode"]]
    quiet = logging.NullHandler()
    logging.getLogger("instructor").addHandler(quiet)
    try:
        built = instructor.from_provider(model, async_client=True, **kwargs)
    finally:
        logging.getLogger("instructor").removeHandler(quiet)
    return built.client, built.provider, _MODE_NAMES.get(built.mode), built.mode
