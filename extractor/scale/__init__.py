"""Engines for corpora larger than one process: Ray Data (`ray_engine`, `rows`) and the OpenAI
Batch API (`batch_files`, `batch_jobs`, `batch_remote`).

Both drive the ordinary pipeline (`extractor.pipeline.Extractor`) and write the ordinary JSONL
through `extractor.batch`, so records, resume keys and error lines are the local engine's.
"""
