"""What a set of extractions cost: documents, records, tokens, calls, re-asks, cache hits, time.

`extract` prints it as the batch's last line and `export --format html` puts it at the top of
the review page, so both add the same fields the same way. Money is computed only from prices
the user gives (per million tokens): hosted prices change too often for a table in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractor.schemas import RECORD_TYPES, Extraction


@dataclass
class Prices:
    """Price per million prompt and completion tokens, in the user's currency."""

    prompt: float
    completion: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Money for these tokens."""
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1_000_000


@dataclass
class Summary:
    """Totals over extractions; `add` one at a time, so a stream never needs to be held."""

    documents: int = 0
    records: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECORD_TYPES, 0))
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_calls: int = 0
    reasks: int = 0
    cache_hits: int = 0
    ungrounded: int = 0
    warnings: int = 0
    #: sum of per-document seconds (documents run concurrently, so this can exceed the wall time)
    document_seconds: float = 0.0

    def add(self, extraction: Extraction) -> None:
        """Count one extraction in."""
        meta = extraction.meta
        self.documents += 1
        for kind in RECORD_TYPES:
            self.records[kind] += len(getattr(extraction, kind))
        self.ungrounded += sum(1 for record in extraction.records() if not record.grounded)
        self.prompt_tokens += meta.usage.prompt_tokens
        self.completion_tokens += meta.usage.completion_tokens
        self.model_calls += meta.model_calls
        self.reasks += meta.reasks
        self.cache_hits += int(meta.cache_hit)
        self.warnings += len(meta.warnings)
        self.document_seconds += meta.seconds

    def line(self, *, prices: Prices | None = None, wall_seconds: float | None = None) -> str:
        """One line: `3 documents · 12 actors, 4 events, 1 sanctions · 9,120+815 tokens · ...`."""
        records = ", ".join(f"{self.records[kind]} {kind}" for kind in RECORD_TYPES)
        parts = [
            f"{self.documents} document{'s' if self.documents != 1 else ''}",
            records,
            f"{self.prompt_tokens:,}+{self.completion_tokens:,} tokens",
            f"{self.model_calls} model calls",
            f"{self.reasks} re-asks",
            f"{self.cache_hits} cache hits",
        ]
        if wall_seconds is not None:
            parts.append(f"{wall_seconds:.1f} s wall")
        else:
            parts.append(f"{self.document_seconds:.1f} s extracting")
        if prices is not None:
            parts.append(f"cost {prices.cost(self.prompt_tokens, self.completion_tokens):.4f}")
        return " · ".join(parts)

    def as_dict(self, *, prices: Prices | None = None) -> dict:
        """The totals as JSON-ready data (the review page's header)."""
        data = {
            "documents": self.documents, "records": dict(self.records), "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens, "model_calls": self.model_calls, "reasks": self.reasks,
            "cache_hits": self.cache_hits, "ungrounded": self.ungrounded, "warnings": self.warnings,
            "document_seconds": round(self.document_seconds, 3),
        }  # fmt: skip
        if prices is not None:
            data["cost"] = round(prices.cost(self.prompt_tokens, self.completion_tokens), 6)
            data["price_per_million"] = {"prompt": prices.prompt, "completion": prices.completion}
        return data
