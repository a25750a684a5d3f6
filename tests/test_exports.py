"""The public names, pinned as httpx's `tests/test_exports.py` pins its own: a name added,
moved or dropped is a visible change to this list, never an accident."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import llm_extract

PUBLIC = [
    "Article",
    "ArticleError",
    "ArticleExtraction",
    "BaselineExtractor",
    "Cache",
    "CacheMiss",
    "CallLog",
    "CallSettings",
    "Client",
    "ClientConfig",
    "Comparison",
    "ConfigError",
    "Delegation",
    "EndpointSettings",
    "Event",
    "EventDate",
    "Evidence",
    "ExtractError",
    "ExtractionResult",
    "ExtractionSettings",
    "Extractor",
    "GroundingReport",
    "Location",
    "Meeting",
    "MeetingFormat",
    "MeetingStatus",
    "ModelOutputError",
    "Participant",
    "Position",
    "PositionTrack",
    "Run",
    "RunSettings",
    "Scorecard",
    "Speech",
    "Stance",
    "TransportError",
    "Usage",
    "aggregate_positions",
    "alias_table",
    "canonical_name",
    "check_spans",
    "compare_scorecards",
    "english_name",
    "evaluate",
    "extract",
    "extract_article",
    "ground_extraction",
    "ground_quote",
    "json_schema",
    "load_article",
    "load_run",
    "nominative_name",
    "normalise_extraction",
    "person_key",
    "read_dates",
    "read_results",
    "record_conversation",
    "resolve_date",
    "resolve_events",
    "score_against_gold",
    "side_code",
]


def test_the_public_names_are_pinned_sorted_and_unique() -> None:
    assert llm_extract.__all__ == PUBLIC
    assert llm_extract.__all__ == sorted(set(llm_extract.__all__))


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_imports(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from llm_extract import {name}", namespace)  # the way a user's script spells it
    assert namespace[name] is getattr(llm_extract, name)
    assert name in dir(llm_extract)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        llm_extract.Nope  # noqa: B018


EXTRA_ONLY = {"pyarrow", "ray"}
"""What only an optional extra installs: a module that needs it is skipped without it."""


def _public_modules() -> list[str]:
    found = []
    for info in pkgutil.walk_packages(llm_extract.__path__, "llm_extract."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return found


@pytest.mark.parametrize("module_name", _public_modules())
def test_each_public_module_declares_what_it_defines(module_name: str) -> None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name not in EXTRA_ONLY:
            raise
        pytest.skip(f"{module_name} needs {err.name}, from an optional extra ([ray])")
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module_name} declares no __all__"
    assert len(exported) == len(set(exported)), f"{module_name}.__all__ repeats a name"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names what it does not define: {missing}"
