"""The shape of the code is checked with the tests: import contracts, lint and types.

The contracts, rules and checked packages live in ``pyproject.toml``
(``[tool.importlinter]``, ``[tool.ruff]``, ``[tool.mypy]``), so ``make test`` and
CI fail when a layer imports upwards, a cycle appears, a service imports
Flask, or a type error creeps into the services and engines. Each check runs
as its own process, the way a developer runs it, and a failure shows its output.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return path


def _run(*command: str, timeout: float = 600) -> None:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


def test_the_import_contracts_hold():
    """Layers (web and CLI over plugins over services over engines over the base), no cycles, no Flask below."""
    _run(_tool("lint-imports"))


def test_ruff_finds_nothing():
    _run(_tool("ruff"), "check", ".")


def test_mypy_finds_no_type_errors_in_services_and_engines():
    _run(_tool("mypy"))  # incremental: .mypy_cache keeps a second run to seconds
