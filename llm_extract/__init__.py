"""llm-extract: meetings, delegations and positions from diplomatic news, grounded and scored."""

from llm_extract.aliases import alias_table
from llm_extract.articles import Article, load_article, read_dates
from llm_extract.compare import Comparison, compare_scorecards
from llm_extract.errors import (
    ArticleError,
    ConfigError,
    ExtractError,
    ModelOutputError,
    TransportError,
)
from llm_extract.evaluation import Run, evaluate, load_run
from llm_extract.events import aggregate_positions, resolve_events
from llm_extract.ground import GroundingReport, check_spans, ground_extraction, ground_quote
from llm_extract.normalise import (
    canonical_name,
    english_name,
    nominative_name,
    normalise_extraction,
    person_key,
    resolve_date,
    side_code,
)
from llm_extract.results import read_results
from llm_extract.schemas import (
    ArticleExtraction,
    Delegation,
    Event,
    EventDate,
    Evidence,
    ExtractionResult,
    Location,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Participant,
    Position,
    PositionTrack,
    Speech,
    Stance,
    Usage,
    json_schema,
)
from llm_extract.score import Scorecard, score_against_gold

_ENGINE = {
    "BaselineExtractor": "llm_extract.baseline",
    "Cache": "llm_extract.cache",
    "CacheMiss": "llm_extract.cache",
    "CallLog": "llm_extract.cache",
    "Client": "llm_extract.client",
    "ClientConfig": "llm_extract.client",
    "Extractor": "llm_extract.extraction",
    "extract": "llm_extract.extraction",
    "extract_article": "llm_extract.extraction",
    "record_conversation": "llm_extract.fixtures",
}
"""The engine loads openai and instructor (about a second): imported on first use."""


def __getattr__(name: str) -> object:
    if name in _ENGINE:
        from importlib import import_module

        return getattr(import_module(_ENGINE[name]), name)
    raise AttributeError(f"module 'llm_extract' has no attribute {name!r}")


__all__ = [
    "Article",
    "ArticleError",
    "ArticleExtraction",
    "BaselineExtractor",
    "Cache",
    "CacheMiss",
    "CallLog",
    "Client",
    "ClientConfig",
    "Comparison",
    "ConfigError",
    "Delegation",
    "Event",
    "EventDate",
    "Evidence",
    "ExtractError",
    "ExtractionResult",
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
