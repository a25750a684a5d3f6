"""Results as a Parquet folder: the row layout round-trips, parts appear whole, resume reads ids."""

from __future__ import annotations

import pytest

pytest.importorskip(
    "pyarrow", reason="pyarrow comes with the [ray] extra: pip install -e '.[dev,ray]'"
)

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from llm_extract.errors import ConfigError
from llm_extract.extraction import read_results
from llm_extract.results_parquet import (
    PARQUET_SCHEMA,
    ParquetSink,
    parquet_done,
    parquet_results,
    result_row,
    row_result,
)
from llm_extract.schemas import ExtractionResult


@pytest.fixture
def results(fixture_results) -> list[ExtractionResult]:
    """fixture-careful's results and fixture-sloppy's, failures and re-asks among them."""
    found = [*read_results(fixture_results["fixture-careful"])]
    found += read_results(fixture_results["fixture-sloppy"])
    return found


def test_a_row_turns_back_into_the_result_it_was_made_from(results):
    assert {r.status for r in results} == {"ok", "failed"}
    assert any(r.reasks for r in results) and any(r.published for r in results)
    for result in results:
        row = result_row(result)
        assert list(row) == PARQUET_SCHEMA.names
        assert row_result(row) == result


def test_the_sink_writes_whole_parts_and_a_rerun_reads_their_ids(results, tmp_path):
    out = tmp_path / "results.parquet"
    some = [*results[:2], *results[-2:]]  # two models
    sink = ParquetSink(out, part_rows=3)
    for result in some:
        sink.write(result)
    assert len(list(out.glob("*.parquet"))) == 1  # 3 rows written, 1 still open
    sink.close()
    assert len(list(out.glob("*.parquet"))) == 2
    assert not list(out.glob(".*"))  # no partial part is left behind

    table = pq.read_table(out)
    assert table.schema.names == PARQUET_SCHEMA.names
    assert sorted(
        map(row_result, table.to_pylist()), key=lambda r: (r.model, r.article_id)
    ) == sorted(some, key=lambda r: (r.model, r.article_id))

    seen: list[ExtractionResult] = []
    assert parquet_done(out, seen.append) == {r.article_id for r in some}

    def kind(result: ExtractionResult) -> tuple[str, str | None, str | None]:
        return result.model, result.prompt.hash if result.prompt else None, result.schema_hash

    assert len({kind(r) for r in some}) == 2
    assert sorted(map(kind, seen)) == sorted({kind(r) for r in some})  # one row per kind


def test_a_killed_runs_open_part_is_not_read(results, tmp_path):
    out = tmp_path / "results.parquet"
    out.mkdir()
    (out / ".part-killed-00000.parquet.partial").write_bytes(b"PAR1 half a part")
    assert parquet_results(out) is None
    assert parquet_done(out, lambda result: None) == set()
    ParquetSink(out).close()  # nothing written: no part
    sink = ParquetSink(out)
    sink.write(results[0])
    sink.close()
    # the readers the README names see the whole part only
    assert duckdb.sql(f"select count(*) from read_parquet('{out}/*.parquet')").fetchall() == [(1,)]
    assert len(pd.read_parquet(out)) == 1


def test_a_file_or_a_foreign_part_is_refused_clearly(tmp_path):
    file = tmp_path / "results.parquet"
    file.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="is a file"):
        parquet_done(file, lambda result: None)

    folder = tmp_path / "other.parquet"
    folder.mkdir()
    (folder / "part-0.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ConfigError, match="not llm-extract results"):
        parquet_done(folder, lambda result: None)
