"""Results as a Parquet dataset: a folder of part files, written as results stream in.

The columns are the `extract` JSONL's fields, flattened where that loses nothing:
the scalars as they are, `prompt` as `prompt_name` / `prompt_hash`, `usage` as
one `usage_<field>` column each, `warnings` and `ungrounded` as lists of strings,
and the nested `extraction` as its JSON (one column a reader can parse, never
rewritten by Arrow). `row_result` turns a row back into the same `ExtractionResult`.

A Parquet file cannot be appended to and is unreadable until its footer is written,
so the sink closes a part every `part_rows` results: it is written as `.<name>.partial`
(which neither `*.parquet` globs nor pyarrow's listing match) and renamed when whole. A killed run loses at most the open
part, whose articles the rerun does again; a rerun adds parts beside the old ones.
Readers take the folder as one table (`pandas.read_parquet`, `pyarrow.dataset`,
DuckDB's `read_parquet('out/*.parquet')`, `ray.data.read_parquet`).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pa_dataset
import pyarrow.parquet as pq

from llm_extract.errors import ConfigError
from llm_extract.schemas import ExtractionResult, PromptInfo, Usage

__all__ = [
    "PARQUET_SCHEMA",
    "ParquetSink",
    "parquet_done",
    "parquet_results",
    "result_row",
    "row_result",
]

_USAGE = [name for name in Usage.model_fields]
_TEXT = pa.string()

PARQUET_SCHEMA = pa.schema(
    [
        ("article_id", _TEXT),
        ("source", _TEXT),
        ("published", pa.date32()),
        ("model", _TEXT),
        ("mode", _TEXT),
        ("status", _TEXT),
        ("error", _TEXT),
        ("failure", _TEXT),
        ("extraction", _TEXT),
        ("prompt_name", _TEXT),
        ("prompt_hash", _TEXT),
        ("schema_hash", _TEXT),
        ("text_hash", _TEXT),
        *((f"usage_{name}", pa.int64()) for name in _USAGE),
        ("attempts", pa.int64()),
        ("reasks", pa.int64()),
        ("latency_s", pa.float64()),
        ("warnings", pa.list_(_TEXT)),
        ("ungrounded", pa.list_(_TEXT)),
    ]
)
"""One explicit schema, so every part has the same columns and types (none inferred)."""

DEFAULT_PART_ROWS = 1000


def result_row(result: ExtractionResult) -> dict[str, Any]:
    """One result as a row of `PARQUET_SCHEMA`."""
    data = result.model_dump(mode="python")
    prompt = data.pop("prompt")
    usage = data.pop("usage")
    extraction = data.pop("extraction")
    flat = {
        **data,
        "extraction": result.extraction.model_dump_json() if extraction is not None else None,
        "prompt_name": prompt["name"] if prompt else None,
        "prompt_hash": prompt["hash"] if prompt else None,
        **{f"usage_{name}": usage[name] for name in _USAGE},
    }
    return {name: flat[name] for name in PARQUET_SCHEMA.names}


def row_result(row: dict[str, Any]) -> ExtractionResult:
    """The result a `result_row` row was made from."""
    data = {name: row[name] for name in PARQUET_SCHEMA.names}
    name, digest = data.pop("prompt_name"), data.pop("prompt_hash")
    usage = {field: data.pop(f"usage_{field}") for field in _USAGE}
    extraction = data.pop("extraction")
    return ExtractionResult.model_validate(
        {
            **data,
            "extraction": json.loads(extraction) if extraction is not None else None,
            "prompt": PromptInfo(name=name, hash=digest) if name is not None else None,
            "usage": usage,
        }
    )


def _parts(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))


def parquet_results(folder: Path) -> pa_dataset.Dataset | None:
    """The parts already in `folder` as one dataset; None when there are none."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"--results {folder} is a file; Parquet results are a folder of parts: give a "
            "new --results, or --format jsonl to append to a JSONL file"
        )
    parts = _parts(folder) if folder.exists() else []
    if not parts:
        return None
    return pa_dataset.dataset([str(p) for p in parts], schema=PARQUET_SCHEMA, format="parquet")


class ParquetSink:
    """Results written into `folder` as Parquet parts of at most `part_rows` rows."""

    def __init__(self, folder: Path, *, part_rows: int = DEFAULT_PART_ROWS) -> None:
        if part_rows < 1:
            raise ConfigError("part_rows must be 1 or more")
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.part_rows = part_rows
        self._run = uuid.uuid4().hex[:12]
        self._number = 0
        self._rows: list[dict[str, Any]] = []

    def write(self, result: ExtractionResult) -> None:
        self._rows.append(result_row(result))
        if len(self._rows) >= self.part_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        name = f"part-{self._run}-{self._number:05d}.parquet"
        partial = self.folder / f".{name}.partial"  # no reader globs or lists it
        pq.write_table(pa.Table.from_pylist(self._rows, schema=PARQUET_SCHEMA), partial)
        os.replace(partial, self.folder / name)
        self._number += 1
        self._rows = []

    def close(self) -> None:
        """Write the open part (results since the last part) and stop."""
        self._flush()


def parquet_done(folder: Path, check: Callable[[ExtractionResult], None]) -> set[str]:
    """The article ids already in `folder`, after `check` saw one result of each kind.

    `check` refuses results of another model, prompt or schema (as a JSONL resume
    does); it sees one full row per distinct (model, prompt, schema), so a rerun
    reads only the id and those columns of a large folder.
    """
    data = parquet_results(folder)
    if data is None:
        return set()
    kinds = ["model", "prompt_name", "prompt_hash", "schema_hash"]
    try:
        table = data.to_table(columns=["article_id", *kinds])
        first: dict[tuple[Any, ...], int] = {}
        for index, kind in enumerate(
            zip(*(table[name].to_pylist() for name in kinds), strict=True)
        ):
            first.setdefault(kind, index)
        samples = [data.take([index]).to_pylist()[0] for index in first.values()]
    except (pa.ArrowException, OSError) as err:
        raise ConfigError(
            f"{folder} holds a part that is not llm-extract results ({err}); give another --results"
        ) from None
    for sample in samples:
        check(row_result(sample))
    return set(table["article_id"].to_pylist())
