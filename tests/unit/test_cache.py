"""cache.ResponseCache / make_key: hits, key sensitivity, corruption, export/import, processes."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from extractor.cache import ResponseCache, make_key
from extractor.errors import CacheError

BASE_KEY_ARGS: dict[str, Any] = {
    "identity": "gguf:sha256:abc",
    "prompt_id": "v1+0123456789ab",
    "schema_hash": "f" * 64,
    "params": {"temperature": 0.0, "seed": 1234, "max_tokens": 1536},
    "pass_name": "events",
    "text": "Rebels took the town of Homs on Sunday.",
    "messages": [{"role": "system", "content": "rules"}, {"role": "user", "content": "article + task"}],
}

VARIANTS: dict[str, Any] = {
    "identity": "gguf:sha256:abd",
    "prompt_id": "v1+0123456789ac",
    "schema_hash": "e" * 64,
    "params": {"temperature": 0.0, "seed": 1235, "max_tokens": 1536},
    "pass_name": "actors",
    "text": "Rebels took the town of Homs on Monday.",
    "messages": [{"role": "system", "content": "rules!"}, {"role": "user", "content": "article + task"}],
}


def entry(n: int = 0) -> dict[str, Any]:
    return {"pass": "events", "output": {"events": [{"quote": f"q{n}", "n": n}]}, "usage": {"prompt_tokens": n}}


@pytest.fixture
def cache(cache_dir: Path):
    store = ResponseCache(cache_dir)
    yield store
    store.close()


# ---------------------------------------------------------------- keys


def test_make_key_is_stable() -> None:
    first = make_key(**BASE_KEY_ARGS)
    assert len(first) == 64
    assert make_key(**BASE_KEY_ARGS) == first
    reordered = dict(reversed(list(BASE_KEY_ARGS.items())))
    reordered["params"] = dict(reversed(list(BASE_KEY_ARGS["params"].items())))
    assert make_key(**reordered) == first


@pytest.mark.parametrize("field", sorted(VARIANTS))
def test_make_key_changes_with_each_input(field: str) -> None:
    changed = {**BASE_KEY_ARGS, field: VARIANTS[field]}
    assert make_key(**changed) != make_key(**BASE_KEY_ARGS)


def test_all_key_variants_are_distinct() -> None:
    keys = {make_key(**BASE_KEY_ARGS)} | {make_key(**{**BASE_KEY_ARGS, f: v}) for f, v in VARIANTS.items()}
    assert len(keys) == len(VARIANTS) + 1


# ---------------------------------------------------------------- get / set


def test_miss_then_hit(cache: ResponseCache) -> None:
    key = make_key(**BASE_KEY_ARGS)
    assert cache.get(key) is None
    assert (cache.hits, cache.misses) == (0, 1)
    cache.set(key, entry(1))
    got = cache.get(key)
    assert got is not None
    assert got["output"] == entry(1)["output"] and got["usage"] == {"prompt_tokens": 1}
    assert isinstance(got["stored_at"], float)
    assert (cache.hits, cache.misses) == (1, 1)
    assert len(cache) == 1


def test_entries_persist_across_instances(cache_dir: Path) -> None:
    first = ResponseCache(cache_dir)
    first.set("k", entry(2))
    first.close()
    second = ResponseCache(cache_dir)
    try:
        assert second.get("k")["output"] == entry(2)["output"]
    finally:
        second.close()


def test_values_are_stored_as_json_text(cache: ResponseCache) -> None:
    cache.set("k", {**entry(), "output": {"text": "caf\u00e9 \u201cq\u201d"}})
    raw = cache._cache.get("k")
    assert isinstance(raw, str)
    assert json.loads(raw)["output"]["text"] == "caf\u00e9 \u201cq\u201d"


def test_stats(cache: ResponseCache) -> None:
    cache.set("a", entry())
    cache.get("a")
    cache.get("b")
    stats = cache.stats()
    assert (stats.entries, stats.hits, stats.misses, stats.errors) == (1, 1, 1, 0)
    assert stats.directory == str(cache.directory)
    assert cache.clear() == 1
    assert len(cache) == 0


# ---------------------------------------------------------------- corruption


@pytest.mark.parametrize(
    "garbage",
    [
        "this is not json {",
        '"a json string, not an object"',
        '{"no_output": true}',
        "[1, 2, 3]",
        b"\xff\xfe\x00 binary",
        12345,
        {"output": "a pickled dict, not JSON text"},
    ],
    ids=["text", "json-string", "no-output", "json-list", "bytes", "int", "pickled-dict"],
)
def test_corrupt_entry_is_a_miss_is_deleted_and_can_be_rewritten(cache: ResponseCache, garbage: Any) -> None:
    key = make_key(**BASE_KEY_ARGS)
    cache._cache.set(key, garbage)
    assert key in cache._cache
    assert cache.get(key) is None
    assert cache.errors == 1 and cache.misses == 1
    assert key not in cache._cache, "the corrupt entry must be deleted"
    assert cache.get(key) is None  # a plain miss now
    assert cache.errors == 1
    cache.set(key, entry(3))
    assert cache.get(key)["output"] == entry(3)["output"]


def test_unreadable_pickle_is_a_miss_and_deleted(cache: ResponseCache) -> None:
    """A value diskcache itself cannot load (here a pickle of a class that does not exist)."""
    key = "broken"
    cache.set(key, entry())
    cache.close()
    db = sqlite3.connect(str(cache.directory / "cache.db"))
    with db:
        db.execute(
            "UPDATE Cache SET value = ?, mode = 4 WHERE key = ?",  # mode 4: MODE_PICKLE
            (sqlite3.Binary(b"cno_such_module_xyz\nThing\n)\x81."), key),
        )
    db.close()
    reopened = ResponseCache(cache.directory)
    try:
        assert reopened.get(key) is None
        assert reopened.errors == 1
        assert key not in reopened._cache
        reopened.set(key, entry(4))
        assert reopened.get(key)["output"] == entry(4)["output"]
    finally:
        reopened.close()


def test_items_skip_and_drop_corrupt_entries(cache: ResponseCache) -> None:
    cache.set("good", entry(1))
    cache._cache.set("bad", "not json")
    assert [k for k, _ in cache.items()] == ["good"]
    assert "bad" not in cache._cache


# ---------------------------------------------------------------- export / import


def test_export_import_round_trip(cache: ResponseCache, tmp_path: Path) -> None:
    for n in range(5):
        cache.set(f"key{n}", entry(n))
    cache._cache.set("corrupt", "{")  # not exported
    exported = tmp_path / "export.jsonl"
    assert cache.export_jsonl(exported) == 5
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == [f"key{n}" for n in range(5)]
    assert all("stored_at" not in json.loads(line) for line in lines)

    fresh = ResponseCache(tmp_path / "fresh")
    try:
        assert fresh.import_jsonl(exported) == 5
        strip = lambda items: {k: {f: v for f, v in e.items() if f != "stored_at"} for k, e in items}  # noqa: E731
        assert strip(fresh.items()) == strip(cache.items())
        again = tmp_path / "again.jsonl"
        fresh.export_jsonl(again)
        assert again.read_bytes() == exported.read_bytes()
    finally:
        fresh.close()


def test_import_skips_blank_lines(cache: ResponseCache, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"key": "a", **entry()}) + "\n\n   \n" + json.dumps({"key": "b", **entry(1)}) + "\n")
    assert cache.import_jsonl(path) == 2
    assert sorted(k for k, _ in cache.items()) == ["a", "b"]


@pytest.mark.parametrize(
    "bad_line",
    [
        "{not json",
        json.dumps({"output": {}}),
        json.dumps({"key": "x"}),
        json.dumps({"key": 5, "output": {}}),
        "[1]",
        '"just a string"',
        "42",
        "null",
    ],
    ids=["syntax", "no-key", "no-output", "int-key", "list", "string", "number", "null"],
)
def test_import_malformed_line_names_file_and_line(cache: ResponseCache, tmp_path: Path, bad_line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"key": "ok", **entry()}) + "\n\n" + bad_line + "\n")
    with pytest.raises(CacheError) as info:
        cache.import_jsonl(path)
    assert f"{path}:3" in str(info.value)


# ---------------------------------------------------------------- processes


def _writer(directory: str, prefix: str, count: int) -> None:
    store = ResponseCache(directory)
    try:
        for n in range(count):
            store.set(f"{prefix}-{n:04d}", {"output": {"writer": prefix, "n": n}})
    finally:
        store.close()


def test_two_processes_write_concurrently(cache_dir: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(cache_dir), prefix, 200)) for prefix in ("p1", "p2")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    store = ResponseCache(cache_dir)
    try:
        assert len(store) == 400
        items = dict(store.items())
        assert len(items) == 400
        for prefix in ("p1", "p2"):
            for n in range(200):
                assert items[f"{prefix}-{n:04d}"]["output"] == {"writer": prefix, "n": n}
        assert store.errors == 0
    finally:
        store.close()
