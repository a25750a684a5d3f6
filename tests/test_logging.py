"""Every module logs under its own name, below the package logger the CLI configures."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

import llm_extract

PACKAGE = Path(llm_extract.__file__).parent


def test_every_module_logs_under_its_own_name() -> None:
    """Only the CLI names the package logger, to configure it as the parent of them all."""
    for path in sorted(PACKAGE.rglob("*.py")):
        loggers = re.findall(r"^\w+ = logging\.getLogger\((.*)\)$", path.read_text("utf-8"), re.M)
        assert all(name == "__name__" for name in loggers), path


def test_a_library_notice_names_its_module_and_reaches_the_package_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from llm_extract.extraction import resolve_model
    from llm_extract.settings import EndpointSettings

    with caplog.at_level(logging.WARNING, logger="llm_extract"):
        assert resolve_model(EndpointSettings.from_env()) == "baseline"
    [record] = [r for r in caplog.records if "offline baseline" in r.getMessage()]
    assert record.name == "llm_extract.extraction"
    assert logging.getLogger(record.name).parent is logging.getLogger("llm_extract")
