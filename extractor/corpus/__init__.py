"""Across documents: one actor, one incident and one sanctions fact however many articles report
them (`extractor merge`). Reads finished extractions only; deterministic; every merge says why."""

from extractor.corpus.merge import MergeResult, merge_extractions

__all__ = ["MergeResult", "merge_extractions"]
