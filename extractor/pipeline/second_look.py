"""A second look at the incidents the events pass did not cite.

In an article that reports several incidents the small model tends to write the headline
incident and stop, or to write it again citing other sentences; the incidents told further
down are lost. So after the first round, each paragraph of a chunk that no event cites,
whose first sentence names a day and which states an incident (`text.candidates`; the
article's opening, a summary of what follows, never), is shown to the same events task
again, alone and with its sentences' own numbers: one short question per incident the
article tells in a paragraph of its own. A chunk whose events pass found nothing gets no
second look, so an article without a news incident (a trial, an anniversary, an opinion
piece) is not asked twice. An answer counts only for the sentences it was shown; the usual
post-processing (types by method, one incident per place and day) then treats its events
like the first round's.

The second question depends on the first answer, so it is a round of its own; with an answer
book (a batch job) it is simply left pending until the next ingest (`pipeline.deferred`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from extractor.pipeline.assemble import PassOutput
from extractor.pipeline.run import PassJob
from extractor.text.candidates import uncited_incidents
from extractor.text.sentences import WITHHELD, excerpt, numbered_lines

#: at most this many paragraphs of one chunk are asked again (a bound on the cost of a long
#: article with many dated paragraphs), in the article's order
MAX_PARAGRAPHS = 6


def jobs(first: Sequence[PassJob], outputs: Sequence[PassOutput]) -> list[PassJob]:
    """The second-look events jobs of one document: one per paragraph to look at again."""
    follow: list[PassJob] = []
    for job, output in zip(first, outputs):
        if job.name != "events" or job.skip or not output.items:
            continue
        hidden = {n for n, sentence in numbered_lines(job.model_text).items() if sentence == WITHHELD}
        cited = {item.sentence for item in output.items}
        groups = uncited_incidents(job.chunk.text, cited, hidden, opening=job.chunk.start == 0)
        follow += [replace(job, model_text=excerpt(job.model_text, group)) for group in groups[:MAX_PARAGRAPHS]]
    return follow


def shown_only(job: PassJob, output: PassOutput) -> PassOutput:
    """The second look's answer without the records that cite a sentence it was not shown."""
    shown = set(numbered_lines(job.model_text))
    return replace(output, items=[item for item in output.items if item.sentence in shown])
