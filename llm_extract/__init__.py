"""llm-extract: meetings, delegations and positions from diplomatic news, grounded and scored.

Every public name is imported on first use (PEP 562), so `import llm_extract` loads no
model client, numpy, rapidfuzz or pycountry: a script that reads results or the schema
pays only for what it touches, and `llm-extract --version` stays quick.
"""

from __future__ import annotations

from importlib import import_module

_LAZY = {
    "Article": "llm_extract.articles",
    "ArticleError": "llm_extract.errors",
    "ArticleExtraction": "llm_extract.schemas",
    "BaselineExtractor": "llm_extract.baseline",
    "Cache": "llm_extract.cache",
    "CacheMiss": "llm_extract.cache",
    "CallLog": "llm_extract.cache",
    "CallSettings": "llm_extract.settings",
    "Client": "llm_extract.client",
    "ClientConfig": "llm_extract.client",
    "Comparison": "llm_extract.compare",
    "ConfigError": "llm_extract.errors",
    "Delegation": "llm_extract.schemas",
    "EndpointSettings": "llm_extract.settings",
    "Event": "llm_extract.schemas",
    "EventDate": "llm_extract.schemas",
    "Evidence": "llm_extract.schemas",
    "ExtractError": "llm_extract.errors",
    "ExtractionResult": "llm_extract.schemas",
    "ExtractionSettings": "llm_extract.settings",
    "Extractor": "llm_extract.extraction",
    "GroundingReport": "llm_extract.ground",
    "Location": "llm_extract.schemas",
    "Meeting": "llm_extract.schemas",
    "MeetingFormat": "llm_extract.schemas",
    "MeetingStatus": "llm_extract.schemas",
    "ModelOutputError": "llm_extract.errors",
    "Participant": "llm_extract.schemas",
    "Position": "llm_extract.schemas",
    "PositionTrack": "llm_extract.schemas",
    "Run": "llm_extract.evaluation",
    "RunSettings": "llm_extract.settings",
    "Scorecard": "llm_extract.score",
    "Speech": "llm_extract.schemas",
    "Stance": "llm_extract.schemas",
    "TransportError": "llm_extract.errors",
    "Usage": "llm_extract.schemas",
    "aggregate_positions": "llm_extract.events",
    "alias_table": "llm_extract.aliases",
    "canonical_name": "llm_extract.normalise",
    "check_spans": "llm_extract.ground",
    "compare_scorecards": "llm_extract.compare",
    "english_name": "llm_extract.normalise",
    "evaluate": "llm_extract.evaluation",
    "extract": "llm_extract.extraction",
    "extract_article": "llm_extract.extraction",
    "ground_extraction": "llm_extract.ground",
    "ground_quote": "llm_extract.ground",
    "json_schema": "llm_extract.schemas",
    "load_article": "llm_extract.articles",
    "load_run": "llm_extract.evaluation",
    "nominative_name": "llm_extract.normalise",
    "normalise_extraction": "llm_extract.normalise",
    "person_key": "llm_extract.normalise",
    "read_dates": "llm_extract.articles",
    "read_results": "llm_extract.results",
    "record_conversation": "llm_extract.fixtures",
    "resolve_date": "llm_extract.normalise",
    "resolve_events": "llm_extract.events",
    "score_against_gold": "llm_extract.score",
    "side_code": "llm_extract.normalise",
}
"""Each public name and the module that defines it."""


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'llm_extract' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
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
