"""Batch runs: inputs (discover, decode), JSONL output (resumable, locked) and the run loop."""
