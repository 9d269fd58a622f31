"""Refuse any dependency that would be (or was) compiled on this machine. Standard library only.

    python scripts/wheel_check.py report REPORT.json   # a `pip install --dry-run --report` resolution
    python scripts/wheel_check.py installed SITE_PACKAGES

``report``: every distribution pip would install must come as a wheel; a source distribution is
accepted only when it is named in scripts/pure-python-sdists.txt (pure-Python packages that publish
no wheel: building them runs no compiler). Local directories (the project itself) are accepted.

``installed``: a wheel built here from source carries the bare platform tag (``linux_x86_64``);
wheels from an index carry ``manylinux``/``musllinux``/``macosx``/``win`` or ``any``.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ALLOWLIST_FILE = Path(__file__).with_name("pure-python-sdists.txt")
SDIST_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar")
# Platform tags of wheels built on a developer machine (no auditwheel repair): the signature of a local compile.
LOCAL_PLATFORM = re.compile(r"^linux_[a-z0-9_]+$")


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def allowed_sdists(path: Path = ALLOWLIST_FILE) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {canonical(line) for line in lines if line}


def sdists_refused(report: dict, *, allowed: set[str]) -> list[str]:
    """``name version (url)`` of every source distribution in a pip report that is not allowlisted."""
    refused = []
    for item in report.get("install", []):
        info = item.get("download_info", {})
        url = info.get("url", "")
        if "dir_info" in info:
            continue  # a local directory: the project itself, built by its own build backend
        if "vcs_info" in info:
            refused.append(f"{item['metadata']['name']} ({url}: a VCS checkout is built from source)")
            continue
        filename = url.rsplit("/", 1)[-1].split("#", 1)[0]
        if filename.endswith(".whl"):
            continue
        if not filename.endswith(SDIST_SUFFIXES):
            refused.append(f"{item['metadata']['name']} ({url}: not a wheel)")
            continue
        name = canonical(item["metadata"]["name"])
        if name not in allowed:
            refused.append(f"{item['metadata']['name']} {item['metadata'].get('version', '')} ({filename})")
    return refused


def wheel_tags(wheel_file: Path) -> list[str]:
    """The ``Tag:`` values of a ``*.dist-info/WHEEL`` file."""
    return [line.split(":", 1)[1].strip() for line in wheel_file.read_text().splitlines() if line.startswith("Tag:")]


def compiled_here(site_packages: Path) -> list[str]:
    """Installed distributions whose wheel was built on this machine with platform-specific (compiled) code."""
    found = []
    for wheel_file in sorted(site_packages.glob("*.dist-info/WHEEL")):
        platforms = {tag.rsplit("-", 1)[-1] for tag in wheel_tags(wheel_file)}
        if platforms and all(LOCAL_PLATFORM.match(p) for p in platforms):
            found.append(wheel_file.parent.name.removesuffix(".dist-info"))
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"report", "installed"}:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    mode, target = argv[0], Path(argv[1])
    if mode == "report":
        refused = sdists_refused(json.loads(target.read_text()), allowed=allowed_sdists())
        what = "would be built from source (no wheel for this Python and platform)"
        fix = (f"pin a version that has a wheel, install it --no-deps if unused, or, for a pure-Python package, "
               f"add it to {ALLOWLIST_FILE.name}")
    else:
        refused = compiled_here(target)
        what = "were compiled on this machine"
        fix = "reinstall them from wheels (scripts/install.sh installs with --only-binary and no compiler)"
    if refused:
        print(f"no-source-builds check FAILED: {len(refused)} dependencies {what}:", file=sys.stderr)
        for line in refused:
            print(f"  {line}", file=sys.stderr)
        print(f"To fix: {fix}.", file=sys.stderr)
        return 1
    print(f"no-source-builds check passed ({mode}: {target})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
