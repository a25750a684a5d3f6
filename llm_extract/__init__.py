"""llm-extract: meetings, delegations and positions from diplomatic news, grounded and scored."""

from llm_extract.aliases import alias_table
from llm_extract.articles import Article, load_article
from llm_extract.errors import (
    ArticleError,
    ConfigError,
    ExtractError,
    ModelOutputError,
    TransportError,
)
from llm_extract.schemas import (
    ArticleExtraction,
    Delegation,
    EventDate,
    Evidence,
    ExtractionResult,
    Location,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Participant,
    Position,
    Speech,
    Stance,
    Usage,
    json_schema,
)

__all__ = [
    "Article",
    "ArticleError",
    "ArticleExtraction",
    "ConfigError",
    "Delegation",
    "EventDate",
    "Evidence",
    "ExtractError",
    "ExtractionResult",
    "Location",
    "Meeting",
    "MeetingFormat",
    "MeetingStatus",
    "ModelOutputError",
    "Participant",
    "Position",
    "Speech",
    "Stance",
    "TransportError",
    "Usage",
    "alias_table",
    "json_schema",
    "load_article",
]
