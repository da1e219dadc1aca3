"""Tokens per article and per record type on evals/, per prompt version.

Prompt tokens are counted exactly as llama.cpp sees them (the embedded model's tokenizer and
chat template, the pipeline's own chunking and messages) for every prompt version under
prompts/, without running the model, so a prompt edit shows its cost before an eval. The
share that llama.cpp's prefix reuse saves is counted too: tokens pass 2 and 3 have in common
with the previous pass of the same chunk are not processed again (an upper bound: the local
backend re-uses only whole batches of its batching plan, extractor/backends/local/batching.py).

Completion tokens need the model: they come from a response cache an eval run filled
(`--cache-dir`): the usage stored with every cached pass, per article (warm rerun) and per
prompt version id (every entry in the cache).

In --quick mode the tokenizer is replaced by the 4-characters-a-token estimate (labelled).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import Context, eval_cases, fmt
from extractor.backends.local.batching import shared_prefix

NAME = "tokens"


class _Tokenizer:
    """The embedded model's vocabulary only (no weights): tokenize and render the chat template."""

    def __init__(self, exact: bool):
        self.exact = exact
        self._llama: Any = None
        self._formatter: Any = None
        if exact:
            from llama_cpp import Llama, llama_chat_format

            from extractor.backends.local.model_store import embedded_model_path

            self._llama = Llama(model_path=str(embedded_model_path()), vocab_only=True, verbose=False)
            model = self._llama._model
            eos, bos = self._llama.token_eos(), self._llama.token_bos()
            self._formatter = llama_chat_format.Jinja2ChatFormatter(
                template=self._llama.metadata["tokenizer.chat_template"],
                eos_token=model.token_get_text(eos) if eos != -1 else "",
                bos_token=model.token_get_text(bos) if bos != -1 else "",
                stop_token_ids=[eos],
            )

    def count(self, text: str) -> int:
        if not self.exact:
            return max(1, (len(text) + 3) // 4)
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def chat(self, messages: list[dict[str, str]]) -> list[int] | int:
        """Prompt tokens of a chat request (token ids when exact, else an estimate)."""
        if not self.exact:
            return sum(self.count(m["content"]) + 4 for m in messages) + 3
        result = self._formatter(messages=messages)
        return self._llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)


def prompt_costs(tokenizer: _Tokenizer, version: str, cases: list[Any]) -> dict[str, Any]:
    from extractor.backends.base import Backend
    from extractor.text.chunking import chunk_text
    from extractor.pipeline import Extractor
    from extractor.pipeline.plan import plan
    from extractor.llm.prompts import PASS_NAMES

    class _CountingBackend(Backend):
        provider, model, mode = "local", "tokenizer-only", "json_schema"
        context_window = 4096  # the embedded model's n_ctx

        @property
        def identity(self) -> str:
            return "tokenizer-only"

        def count_tokens(self, text: str) -> int:
            return tokenizer.count(text)

        async def complete(self, response_model: Any, messages: Any) -> Any:
            raise RuntimeError("tokens benchmark makes no model calls")

    extractor = Extractor(backend=_CountingBackend(), prompt_version=version, cache=False)
    prompts = extractor.prompts
    budget = extractor._chunk_budget()
    per_case: dict[str, Any] = {}
    totals = defaultdict(int)
    carried: list[int] | None = None  # the previous document's last prompt, still in llama.cpp's KV cache
    sequences: list[list[list[int]]] = []  # per case, its prompts in pipeline order
    for case in cases:
        chunks = chunk_text(case.text, max_tokens=budget, overlap_tokens=extractor.config.overlap_tokens,
                            count_tokens=tokenizer.count)
        row: dict[str, Any] = {"chunks": len(chunks), "article_tokens": tokenizer.count(case.text)}
        processed = batch = full = 0
        sequence: list[list[int]] = []
        sequences.append(sequence)
        for chunk in chunks:
            previous: list[int] | None = None
            # What the pipeline would send: v3 shows numbered sentences and skips passes
            # without candidate sentences (no prompt at all).
            for job in plan([chunk], prompts, PASS_NAMES, extractor.config.withhold_instructions)[0]:
                name = job.name
                if job.skip:
                    row[name] = row.get(name, 0)
                    continue
                tokens = tokenizer.chat(prompts.messages(name, job.model_text, case.published, job.hints))
                count = len(tokens) if isinstance(tokens, list) else tokens
                row[name] = row.get(name, 0) + count
                full += count
                if isinstance(tokens, list):
                    sequence.append(tokens)
                    processed += count - (shared_prefix(previous, tokens) if previous is not None else 0)
                    batch += count - shared_prefix(previous if previous is not None else carried or [], tokens)
                    previous = carried = tokens
                else:
                    processed += count
                    batch += count
        row["prompt_tokens"] = full
        row["processed_with_prefix_reuse"] = processed
        row["processed_in_batch"] = batch
        per_case[case.id] = row
        for key in ("prompt_tokens", "processed_with_prefix_reuse", "processed_in_batch", "article_tokens", *PASS_NAMES):
            totals[key] += row[key]
    n = len(cases)
    # Two documents in flight on the one in-process model: their passes alternate (A1 B1 A2 B2 ...),
    # so each pass finds the *other* article in the KV cache and re-evaluates its own.
    interleaved = 0
    last: list[int] = []
    for a, b in zip(sequences[0::2], sequences[1::2] + [[]]):
        order = [p for pair in zip(a, b) for p in pair] + a[len(b):] + b[len(a):]
        for tokens in order:
            interleaved += len(tokens) - shared_prefix(last, tokens)
            last = tokens
    system_tokens = tokenizer.count(prompts.system)
    tasks = {name: tokenizer.count(prompts.task(name)) for name in PASS_NAMES}
    return {
        "version": version,
        "id": prompts.id,
        "system_tokens": system_tokens,
        "task_tokens": tasks,
        "chunk_budget": budget,
        "mean_prompt_tokens_per_article": totals["prompt_tokens"] / n,
        "mean_processed_per_article": totals["processed_with_prefix_reuse"] / n,
        "mean_processed_in_batch": totals["processed_in_batch"] / n,
        "mean_processed_two_in_flight": interleaved / n if tokenizer.exact else None,
        "mean_article_tokens": totals["article_tokens"] / n,
        "mean_per_pass": {name: totals[name] / n for name in PASS_NAMES},
        "per_case": per_case,
    }


def observed(cache_dir: Path) -> dict[str, Any]:
    """Usage stored in a response cache, grouped by prompt version id and pass."""
    from extractor.cache import ResponseCache

    cache = ResponseCache(cache_dir)
    groups: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for _key, value in cache.items():
        usage = value.get("usage") or {}
        identity = str(value.get("identity", ""))
        if not identity.startswith("local:"):
            continue
        groups[(str(value.get("prompt")), str(value.get("pass")))].append(
            (int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))
        )
    cache.close()
    out: dict[str, Any] = {}
    for (prompt, name), rows in sorted(groups.items()):
        out.setdefault(prompt, {})[name] = {
            "entries": len(rows),
            "mean_prompt_tokens": sum(r[0] for r in rows) / len(rows),
            "mean_completion_tokens": sum(r[1] for r in rows) / len(rows),
        }
    return out


def run(ctx: Context, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    from extractor.llm.prompts import current_version, prompts_root

    cases = eval_cases()
    tokenizer = _Tokenizer(exact=not ctx.quick)
    root = prompts_root()
    versions = sorted(p.name for p in root.iterdir() if p.is_dir())
    result: dict[str, Any] = {
        "exact": tokenizer.exact,
        "current": current_version(root),
        "versions": {v: prompt_costs(tokenizer, v, cases) for v in versions},
    }
    if ctx.cache_dir is not None:
        result["observed"] = observed(Path(ctx.cache_dir))
        usage = ((previous or {}).get("cache") or {}).get("local", {}).get("_usage")
        if usage is None and not ctx.quick:
            from benchmarks import cache as cache_bench

            import asyncio

            usage = asyncio.run(cache_bench._local(ctx)).get("_usage")
        if usage:
            result["per_article"] = {
                cid: {
                    name: {
                        "prompt_tokens": sum(p["prompt_tokens"] for p in passes if p["pass"] == name),
                        "completion_tokens": sum(p["completion_tokens"] for p in passes if p["pass"] == name),
                    }
                    for name in ("actors", "events", "sanctions")
                }
                for cid, passes in sorted(usage.items())
            }
            # How well the static count matches what llama.cpp reported for the same requests.
            current = result["versions"][result["current"]]["per_case"]
            diffs = [
                sum(v["prompt_tokens"] for v in row.values()) - current[cid]["prompt_tokens"]
                for cid, row in result["per_article"].items()
                if cid in current
            ]
            result["static_vs_observed_prompt_diff"] = diffs
    return result


def render(r: dict[str, Any]) -> str:
    how = "exact (embedded model's tokenizer and chat template)" if r["exact"] else "ESTIMATED (4 chars/token, --quick)"
    lines = [
        f"Prompt tokens per eval article, counted {how}, for every prompt version (current: `{r['current']}`). "
        "*Processed* = what llama.cpp evaluates when passes 2 and 3 reuse the common prefix of the previous pass; "
        "*in a batch* = also reusing the system prompt left in the KV cache by the previous document "
        "(one loaded model across documents); *2 in flight* = two documents at once on the in-process model, "
        "their passes alternating.",
        "",
        "| prompt | system (shared prefix) | task line a/e/s | article | prompt tokens / article (3 passes) | "
        "processed, one article | processed, in a batch | processed, 2 in flight | actors | events | sanctions |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v in r["versions"].values():
        t = v["task_tokens"]
        p = v["mean_per_pass"]
        lines.append(
            f"| `{v['id']}` | {v['system_tokens']} | {t['actors']}/{t['events']}/{t['sanctions']} | "
            f"{fmt(v['mean_article_tokens'], 0)} | {fmt(v['mean_prompt_tokens_per_article'], 0)} | "
            f"{fmt(v['mean_processed_per_article'], 0)} | **{fmt(v['mean_processed_in_batch'], 0)}** | "
            f"{fmt(v['mean_processed_two_in_flight'], 0)} | {fmt(p['actors'], 0)} | {fmt(p['events'], 0)} | "
            f"{fmt(p['sanctions'], 0)} |"
        )
    observed = r.get("observed")
    if observed:
        lines += [
            "",
            "Observed usage per pass (means over the cache entries of the embedded model, by prompt version id):",
            "",
            "| prompt id | pass | entries | prompt tokens | completion tokens |",
            "|---|---|---|---|---|",
        ]
        for prompt, passes in observed.items():
            for name, row in passes.items():
                lines.append(
                    f"| `{prompt}` | {name} | {row['entries']} | {fmt(row['mean_prompt_tokens'], 0)} | "
                    f"{fmt(row['mean_completion_tokens'], 0)} |"
                )
    per_article = r.get("per_article")
    if per_article:
        lines += [
            "",
            "Per article (embedded model, current prompt; prompt / completion tokens, re-asks included):",
            "",
            "| article | actors | events | sanctions | completion total |",
            "|---|---|---|---|---|",
        ]
        for cid, row in per_article.items():
            cells = [f"{row[n]['prompt_tokens']} / {row[n]['completion_tokens']}" for n in ("actors", "events", "sanctions")]
            total = sum(row[n]["completion_tokens"] for n in ("actors", "events", "sanctions"))
            lines.append(f"| {cid} | " + " | ".join(cells) + f" | {total} |")
        diffs = r.get("static_vs_observed_prompt_diff") or []
        if diffs:
            lines += ["", f"Observed minus static prompt tokens per article (re-asks add to observed): "
                          f"min {min(diffs)}, max {max(diffs)}."]
    return "\n".join(lines)
