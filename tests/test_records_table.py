"""`--format table` renders every record, including sides the text leaves unnamed."""

from __future__ import annotations

from rich.console import Console

from llm_extract.cli.records import results_view
from llm_extract.schemas import ArticleExtraction, ExtractionResult


def test_a_delegation_with_an_unknown_side_or_a_named_group_is_shown() -> None:
    extraction = ArticleExtraction.model_validate(
        {
            "meetings": [
                {
                    "status": "planned",
                    "format": "phone",
                    "delegations": [
                        {"side": "RU", "head": {"name": "Владимир Путин"}},
                        {},
                        {"side_name": "европейские партнёры"},
                    ],
                    "evidence": [{"text": "Путин может провести разговор"}],
                }
            ],
            "positions": [],
        }
    )
    result = ExtractionResult(
        article_id="a", source="a.txt", model="m", status="ok", extraction=extraction
    )
    console = Console(width=80, record=True)
    console.print(results_view([result]))
    text = console.export_text()
    assert "RU: Владимир Путин" in text and "?" in text and "европейские" in text
