"""The pipeline: `extractor.Extractor` (facade), `run` (passes: cache, slots, salvage) and
`assemble` (pure: pass outputs -> an `Extraction`)."""

from extractor.errors import ExtractionError
from extractor.pipeline.extractor import Extractor, aextract, extract

__all__ = ["ExtractionError", "Extractor", "aextract", "extract"]
