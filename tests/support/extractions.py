"""A known batch for the export tests: two articles on disk and the extraction JSONL of them.

The records are written by hand (not by a model) so each exported cell has one right value.
The first article is hostile to a review page: a `<script>` element in its text and quotes,
an emoji (two UTF-16 units) before a highlighted span, nested and overlapping spans, and one
ungrounded record. The second names the same armed group, for FtM's cross-document merge.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from extractor.schemas import Actor, Event, Evidence, Extraction, Meta, SanctionFact, Usage

ARTICLE_1 = (
    "ALEPPO (Wire) - Syrian army forces clashed with Hayat Tahrir al-Sham fighters near Aleppo on 3 March 2025, "
    "killing 12, the Syrian Observatory for Human Rights said. \U0001f680 Gunmen from an unidentified militia "
    "later shot dead 4 villagers in Tal Rifaat.\n\n"
    "<script>window.__pwned = 1</script> Residents marched in Aleppo to protest the violence.\n\n"
    "The United States designated the group's leader, Abu Example, as a terrorist and froze his assets.\n"
)
ARTICLE_2 = "DAMASCUS (Wire) - Hayat Tahrir al-Sham said on Monday it had taken control of the city of Hama.\n"


def evidence(text: str, quote: str) -> Evidence:
    start = text.index(quote)
    return Evidence(quote=quote, start=start, end=start + len(quote))


def _meta(data: bytes, **extra) -> Meta:
    return Meta(
        model="test/hand-written", backend="test", prompt_version="v3+test", schema_hash="0" * 8,
        usage=Usage(prompt_tokens=1000, completion_tokens=100), seconds=2.5, model_calls=3, reasks=1,
        published="2025-03-04", input_sha256=hashlib.sha256(data).hexdigest(), input_encoding="utf-8", **extra,
    )  # fmt: skip


def extraction_1(source: str) -> Extraction:
    t = ARTICLE_1
    actors = [
        Actor(id="a1", name="Syrian army", kind="state_forces", evidence=evidence(t, "Syrian army"), grounded=True),
        Actor(id="a2", name="Hayat Tahrir al-Sham", aliases=["HTS"], kind="armed_group",
              evidence=evidence(t, "Hayat Tahrir al-Sham"), grounded=True),
        Actor(id="a3", name="Syrian Observatory for Human Rights", kind="ngo",
              evidence=evidence(t, "Syrian Observatory for Human Rights"), grounded=True),
        Actor(id="a4", name="Abu Example", kind="person", evidence=evidence(t, "Abu Example"), grounded=True),
        Actor(id="a5", name="United States", kind="government", evidence=evidence(t, "United States"), grounded=True),
        Actor(id="a6", name="Ghost Brigade", kind="armed_group", evidence=None, grounded=False),
    ]  # fmt: skip
    events = [
        Event(id="e1", type="battle", sub_type="armed clash", perpetrators=["Syrian army"], perpetrator_ids=["a1"],
              targets=["Hayat Tahrir al-Sham"], target_ids=["a2"], date="2025-03-03", date_text="3 March 2025",
              country="Syria", admin1="Aleppo", location="Aleppo", fatalities=12,
              sources=["Syrian Observatory for Human Rights"],
              evidence=evidence(t, "Syrian army forces clashed with Hayat Tahrir al-Sham fighters near Aleppo on 3 March 2025, killing 12"),
              grounded=True),
        Event(id="e2", type="violence_against_civilians", perpetrators=["unidentified militia"], targets=["villagers"],
              date="2025-03", country="Syria", location="Tal Rifaat", fatalities=4,
              evidence=evidence(t, "Gunmen from an unidentified militia later shot dead 4 villagers in Tal Rifaat."),
              grounded=True),
        Event(id="e3", type="protest", perpetrators=["Residents"], country="Syria", location="Aleppo",
              evidence=evidence(t, "<script>window.__pwned = 1</script> Residents marched in Aleppo to protest the violence."),
              grounded=True),
    ]  # fmt: skip
    sanctions = [
        SanctionFact(id="s1", target="Abu Example", target_id="a4", authority="United States",
                     authority_text="The United States", measure="terrorist_designation", status="imposed",
                     evidence=evidence(t, "The United States designated the group's leader, Abu Example, as a terrorist"),
                     grounded=True),
        SanctionFact(id="s2", target="Abu Example", target_id="a4", authority="United States", measure="asset_freeze",
                     status="imposed", evidence=evidence(t, "froze his assets"), grounded=True),
        SanctionFact(id="s3", target="Example Holdings Ltd", authority="United Kingdom", measure="asset_freeze",
                     status="under_review", program="Syria", evidence=None, grounded=False,
                     checks=["target 'Example Holdings Ltd' is not in the text"]),
    ]  # fmt: skip
    meta = _meta(t.encode(), warnings=["withheld 1 paragraph that addresses an AI model"])
    return Extraction(source=source, actors=actors, events=events, sanctions=sanctions, meta=meta)


def extraction_2(source: str) -> Extraction:
    t = ARTICLE_2
    actors = [Actor(id="a1", name="Hayat Tahrir al-Sham", kind="armed_group", evidence=evidence(t, "Hayat Tahrir al-Sham"), grounded=True)]
    events = [
        Event(id="e1", type="strategic_development", sub_type="Non-violent transfer of territory",
              perpetrators=["Hayat Tahrir al-Sham"], perpetrator_ids=["a1"], date="2025-03-03", country="Syria",
              location="Hama", evidence=evidence(t, "it had taken control of the city of Hama"), grounded=True),
    ]  # fmt: skip
    return Extraction(source=source, actors=actors, events=events, meta=_meta(t.encode()))


def write_batch(directory: Path) -> tuple[Path, list[Path]]:
    """The two articles and `batch.jsonl` (sources relative to `directory`) under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    first, second = directory / "aleppo.txt", directory / "hama.txt"
    first.write_text(ARTICLE_1, encoding="utf-8")
    second.write_text(ARTICLE_2, encoding="utf-8")
    batch = directory / "batch.jsonl"
    with batch.open("w", encoding="utf-8") as out:
        for extraction in (extraction_1("aleppo.txt"), extraction_2("hama.txt")):
            out.write(json.dumps(extraction.model_dump(mode="json"), ensure_ascii=False) + "\n")
    return batch, [first, second]


def write_incident_batch(path: Path) -> Path:
    """Three hand-written extractions: two reports of one attack (tolls 14 and 17) and the same
    village attacked a week later (must stay apart), for the merge tests."""

    def doc(name: str, published: str, day: str, toll: int, location: str) -> Extraction:
        quote = f"Gunmen killed {toll} civilians in {location}."
        meta = Meta(model="test/hand-written", backend="test", prompt_version="v3+test", schema_hash="0" * 8,
                    published=published)  # fmt: skip
        group = Actor(id="a1", name="Katiba Serma", kind="armed_group", evidence=Evidence(quote="Katiba Serma", start=0, end=12), grounded=True)
        event = Event(id="e1", type="violence_against_civilians", perpetrators=["Katiba Serma"], perpetrator_ids=["a1"],
                      targets=["civilians"], date=day, country="Mali", admin1="Mopti", location=location, fatalities=toll,
                      sources=[name.split("-")[0].upper()], evidence=Evidence(quote=quote, start=0, end=len(quote)), grounded=True)  # fmt: skip
        return Extraction(source=f"{path.name}#{name}", actors=[group], events=[event], meta=meta)

    docs = [doc("afp-wire", "2025-09-10", "2025-09-09", 14, "Dabara"), doc("local-radio", "2025-09-10", "2025-09-09", 17, "Dabara market"),
            doc("afp-later", "2025-09-17", "2025-09-16", 6, "Dabara")]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d.model_dump(mode="json")) + "\n" for d in docs), encoding="utf-8")
    return path
