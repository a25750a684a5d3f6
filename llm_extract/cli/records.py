"""`--format table`: the records themselves, readable at 80 columns, and a summary for
long runs (the full records are in `--results` or `--format json`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from llm_extract.cli._common import add_data_row
from llm_extract.schemas import Delegation, ExtractionResult, Meeting, Position

__all__ = ["LONG_RUN", "print_results", "results_view"]

LONG_RUN = 20
"""Above this many articles the table is a summary, not every record."""


def results_view(results: Sequence[ExtractionResult]) -> RenderableType:
    """Each article's meetings, positions and warnings; a summary for a long run."""
    if len(results) > LONG_RUN:
        return _summary(results)
    parts: list[RenderableType] = []
    for result in results:
        parts.extend(_article(result))
    parts.append(_totals(results))
    return Group(*parts)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _article(result: ExtractionResult) -> list[RenderableType]:
    published = (
        f"published {result.published.isoformat()}"
        if result.published
        else "publication date unknown"
    )
    head = Text.assemble(
        (result.article_id, "bold"),
        f"  {result.status}",
        f"  {published}",
        f"  {result.usage.input_tokens}/{result.usage.output_tokens} tokens",
        f"  {result.latency_s:.2f} s" if result.latency_s is not None else "",
    )
    parts: list[RenderableType] = [Text(""), head]
    if result.error:
        parts.append(Text(f"failed: {result.error}", style="red"))
    extraction = result.extraction
    if extraction is not None:
        if extraction.meetings:
            parts.append(_meetings(extraction.meetings))
        if extraction.positions:
            parts.append(_positions(extraction.positions))
        if not extraction.meetings and not extraction.positions:
            parts.append(Text("no meetings or positions found"))
    parts.extend(Text(f"warning: {w}", style="yellow") for w in result.warnings)
    return parts


def _meetings(meetings: Sequence[Meeting]) -> Table:
    table = Table(title="meetings", title_justify="left", expand=False)
    for name, width in (("date", 13), ("place", 14), ("status", 9), ("sides: heads", 28)):
        table.add_column(name, overflow="fold", max_width=width)
    for meeting in meetings:
        add_data_row(
            table,
            _date(meeting),
            _place(meeting),
            meeting.status.value,
            "; ".join(_side(d) for d in meeting.delegations) or "-",
        )
    return table


def _date(meeting: Meeting) -> str:
    if meeting.date is None:
        return "-"
    start, end = meeting.date.start, meeting.date.end
    if end is None:
        return start
    shared = 8 if start[:8] == end[:8] else 5 if start[:5] == end[:5] else 0
    return f"{start}–{end[shared:]}"


def _place(meeting: Meeting) -> str:
    location = meeting.location
    if location is None:
        return "-"
    where = location.place or location.venue or "-"
    return f"{where} ({location.country})" if location.country else where


def _side(delegation: Delegation) -> str:
    head = delegation.head.name if delegation.head is not None else None
    return f"{delegation.label}: {head}" if head else delegation.label


def _positions(positions: Sequence[Position]) -> Table:
    table = Table(title="positions", title_justify="left", expand=False)
    for name, width in (("holder", 24), ("stance", 10), ("issue", 38)):
        table.add_column(name, overflow="fold", max_width=width)
    for position in positions:
        holder = position.holder.name if position.holder is not None else None
        side = position.side or ""
        who = f"{holder} ({side})" if holder and side else holder or side or "-"
        add_data_row(table, who, position.stance.value, position.issue)
    return table


def _totals(results: Sequence[ExtractionResult]) -> Text:
    ok = [r for r in results if r.extraction is not None]
    meetings = sum(len(r.extraction.meetings) for r in ok if r.extraction)
    positions = sum(len(r.extraction.positions) for r in ok if r.extraction)
    failed = len(results) - sum(r.status == "ok" for r in results)
    warnings = sum(len(r.warnings) for r in results)
    tokens = sum(r.usage.input_tokens + r.usage.output_tokens for r in results)
    return Text(
        f"\n{_plural(len(results), 'article')}: {failed} failed, "
        f"{_plural(meetings, 'meeting')}, {_plural(positions, 'position')}, "
        f"{_plural(warnings, 'warning')}, {tokens:,} tokens"
    )


def _summary(results: Sequence[ExtractionResult]) -> Group:
    """Totals, the failures by reason, and the commonest warnings: what a long run needs."""
    parts: list[RenderableType] = [_totals(results)]
    failed = [r for r in results if r.status == "failed"]
    if failed:
        table = Table(title="failed articles", expand=False)
        table.add_column("article", overflow="fold", max_width=28)
        table.add_column("why", overflow="fold", max_width=48)
        for result in failed[:LONG_RUN]:
            add_data_row(table, result.article_id, result.error or "")
        parts.append(table)
        if len(failed) > LONG_RUN:
            parts.append(Text(f"… and {len(failed) - LONG_RUN} more failed"))
    kinds = Counter(w.split(":", 1)[0] for r in results for w in r.warnings)
    if kinds:
        table = Table(title="warnings", expand=False)
        table.add_column("count", justify="right")
        table.add_column("kind", overflow="fold", max_width=64)
        for kind, count in kinds.most_common(10):
            add_data_row(table, str(count), kind)
        parts.append(table)
    parts.append(Text("every record: --format json, or the --results file"))
    return Group(*parts)


def print_results(results: Sequence[ExtractionResult]) -> None:
    Console().print(results_view(results))
