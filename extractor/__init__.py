"""extractor: typed, evidence-grounded events, actors and sanctions facts from news text.

The public API: `extract` / `aextract` (one document), `Extractor` (configured, reusable),
`ExtractorConfig` (every knob), the output models, and the errors (`ExtractorError` and its
subclasses).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("extractor")
except PackageNotFoundError:  # running from a checkout without installation
    __version__ = "0.0.0+local"

from extractor.config import ExtractorConfig
from extractor.errors import (
    BackendError,
    CacheError,
    ConfigError,
    ExtractionError,
    ExtractorError,
    GoldError,
    InputError,
    ModelNotAvailable,
    OutputBusy,
)
from extractor.pipeline import Extractor, aextract, extract
from extractor.schemas import Actor, Event, Evidence, Extraction, Meta, SanctionFact

__all__ = [
    "Actor",
    "BackendError",
    "CacheError",
    "ConfigError",
    "Event",
    "Evidence",
    "Extraction",
    "ExtractionError",
    "Extractor",
    "ExtractorConfig",
    "ExtractorError",
    "GoldError",
    "InputError",
    "Meta",
    "ModelNotAvailable",
    "OutputBusy",
    "SanctionFact",
    "__version__",
    "aextract",
    "extract",
]
