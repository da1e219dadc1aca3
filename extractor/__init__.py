"""extractor: typed, evidence-grounded events, actors and sanctions facts from news text."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("extractor")
except PackageNotFoundError:  # running from a checkout without installation
    __version__ = "0.0.0+local"

from extractor.pipeline import ExtractionError, Extractor, aextract, extract
from extractor.schemas import Actor, Event, Evidence, Extraction, Meta, SanctionFact

__all__ = [
    "Actor",
    "Event",
    "Evidence",
    "Extraction",
    "ExtractionError",
    "Extractor",
    "Meta",
    "SanctionFact",
    "__version__",
    "aextract",
    "extract",
]
