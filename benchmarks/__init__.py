"""Benchmarks for the extractor: `python -m benchmarks.run` (see docs/BENCHMARKS.md).

One module per benchmark; each exposes `run(ctx) -> dict` and `render(result) -> str`.
"""
