"""What importing costs: the package and the light commands load no model client and no
numerical library until something needs them. Each check runs in a fresh interpreter, since
this one has loaded everything already."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "rapidfuzz", "pycountry", "openai", "instructor")
CLIENTS = ("openai", "instructor")


def _loaded(code: str, watch: tuple[str, ...]) -> list[str]:
    """Run `code` in a fresh interpreter; which of `watch` it left in `sys.modules`."""
    probe = (
        "import sys\n"
        f"{code}\n"
        f"print('\\n' + __import__('json').dumps([m for m in {watch!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_package_loads_nothing_heavy() -> None:
    assert _loaded("import llm_extract", HEAVY) == []


def test_a_light_public_name_stays_light() -> None:
    assert _loaded("from llm_extract import ConfigError, CallSettings", HEAVY) == []


@pytest.mark.parametrize("argv", [["--version"], ["schema"], ["schema", "event"]])
def test_light_commands_load_no_model_client(argv: list[str]) -> None:
    code = (
        "from llm_extract.cli import app\n"
        f"sys.argv = ['llm-extract', *{argv!r}]\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code"
    )
    assert _loaded(code, CLIENTS) == []
