"""The import layers of docs/architecture.md, as import-linter contracts (pyproject.toml ``[tool.importlinter]``):
frontend > scoring | lineage | training (independent of each other) > arena. An import against them fails here."""
from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_layer_contracts_are_kept():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_the_contracts_name_every_app_in_its_layer():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["id"] == "layers"]
    assert layers["layers"] == ["frontend", "scoring | lineage | training", "arena"]
    assert set(config["root_packages"]) == {"arena", "scoring", "lineage", "training", "frontend"}
