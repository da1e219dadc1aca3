"""Planning a document's passes: what each pass shows the model, and which passes to skip.

For every chunk: passages that address an AI model are withheld (`text.injection`); in the
"sentence" evidence style (v3) the chunk is shown as numbered sentences and each pass gets
its candidate sentence numbers (`text.candidates`, events and sanctions) as task-template
variables (v3's sanctions task names them; its events task does not, because a listed set
of sentences made the model write one event per listed sentence), and an actors task that
shows `names` gets the tagger's candidate names (`text.entities`); a gated pass with no candidate sentence is
planned as skipped and makes no model call. In the "quote" style (v1/v2) the chunk is shown
as it is and every pass runs, exactly as before.
"""

from __future__ import annotations

from extractor.llm.prompts import PromptSet
from extractor.pipeline.run import PassJob
from extractor.text.candidates import candidate_sentences
from extractor.text.chunking import Chunk
from extractor.text.entities import candidate_names
from extractor.text.injection import Withheld, withhold
from extractor.text.sentences import numbered


def _hints(name: str, text: str, shown: str, gated: bool, wants_names: bool) -> tuple[dict, bool]:
    """Task variables of one pass over one chunk, and whether it is skipped. Names are tagged
    in the text as shown, so a withheld passage cannot put a name on the list."""
    if name == "actors":
        # The tagger runs only for a task that shows its names (v6's actors task).
        return ({"names": candidate_names(shown) or []} if wants_names else {}), False
    candidates = candidate_sentences(name, text)
    return {"candidates": candidates or []}, gated and candidates == []


def plan(
    chunks: list[Chunk], prompts: PromptSet, passes: tuple[str, ...], withholding: bool
) -> tuple[list[PassJob], list[Withheld]]:
    """The jobs of one document in chunk-major order, and every withheld passage."""
    jobs: list[PassJob] = []
    withheld_all: list[Withheld] = []
    for chunk in chunks:
        shown, withheld = withhold(chunk.text) if withholding else (chunk.text, [])
        withheld_all += withheld
        if prompts.style == "quote":
            jobs += [PassJob(chunk, shown, name) for name in passes]
            continue
        model_text = numbered(chunk.text, [(w.start, w.end) for w in withheld])
        for name in passes:
            hints, skip = _hints(name, chunk.text, shown, prompts.gated, "names" in prompts.task_variables(name))
            jobs.append(PassJob(chunk, model_text, name, hints, skip))
    return jobs, withheld_all
