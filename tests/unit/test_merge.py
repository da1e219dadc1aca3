"""Cross-document merge: actors, incidents and sanctions facts, and the pairwise merge score.

The extractions are hand-written so every merge decision has one right answer."""

from __future__ import annotations

from extractor.corpus import merge_extractions
from extractor.eval.merging import document_id, score_merge
from extractor.schemas import Actor, Event, Evidence, Extraction, Meta, SanctionFact


def _ev(quote: str) -> Evidence:
    return Evidence(quote=quote, start=0, end=len(quote))


def _doc(name: str, published: str, actors=(), events=(), sanctions=()) -> Extraction:
    meta = Meta(model="m", backend="b", prompt_version="v3+t", schema_hash="h", published=published)
    return Extraction(source=f"batch.jsonl#{name}", actors=list(actors), events=list(events), sanctions=list(sanctions), meta=meta)


def _actor(id: str, name: str, kind: str = "armed_group", aliases=()) -> Actor:
    return Actor(id=id, name=name, kind=kind, aliases=list(aliases), evidence=_ev(name), grounded=True)


def _battle(id: str, date: str | None, location: str, fatalities: int | None, perps=("a1",), names=("Katiba Serma",), type="battle", admin1="Mopti") -> Event:
    return Event(id=id, type=type, perpetrators=list(names), perpetrator_ids=list(perps), targets=["civilians"],
                 date=date, country="Mali", admin1=admin1, location=location, fatalities=fatalities,
                 evidence=_ev(f"{location} attack"), grounded=True)  # fmt: skip


def _merge(*docs: Extraction):
    return merge_extractions(list(enumerate(docs, start=1)))


def test_one_group_under_its_acronym_and_a_spelling_variant_is_one_batch_actor_and_says_why() -> None:
    result = _merge(
        _doc("d1", "2025-09-10", [_actor("a1", "Rapid Support Forces")]),
        _doc("d2", "2025-09-10", [_actor("a1", "RSF")]),
        _doc("d3", "2025-09-11", [_actor("a1", "Rapid Suport Forces")]),
    )
    (actor,) = result.actors
    assert actor["documents"] == ["batch.jsonl#d1", "batch.jsonl#d2", "batch.jsonl#d3"]
    assert actor["name"] == "Rapid Support Forces" and "RSF" in actor["aliases"]
    assert "'RSF' is the acronym of 'Rapid Support Forces'" in actor["why"][0]
    assert "spelling" in actor["why"][1]
    assert [m["record_id"] for m in actor["mentions"]] == ["a1", "a1", "a1"]


def test_generic_names_other_kinds_and_two_actors_of_one_document_stay_apart() -> None:
    result = _merge(
        _doc("d1", "2025-09-10", [_actor("a1", "the army", "state_forces"), _actor("a2", "Katiba Serma"),
                                  _actor("a3", "Katiba Serma Brigade")]),
        _doc("d2", "2025-09-10", [_actor("a1", "the army", "state_forces"), _actor("a2", "Katiba Serma", "person")]),
    )  # fmt: skip
    assert len(result.actors) == 5  # the army twice, Katiba Serma (group and person), the Brigade


def test_two_aliases_alone_never_link_actors() -> None:
    result = _merge(
        _doc("d1", "2025-09-10", [_actor("a1", "Security Council", "government", aliases=["United Nations"])]),
        _doc("d2", "2025-09-10", [_actor("a1", "General Assembly", "government", aliases=["United Nations"])]),
    )
    assert len(result.actors) == 2


def test_reports_of_one_incident_merge_and_keep_every_fatality_figure() -> None:
    actors = [_actor("a1", "Katiba Serma")]
    result = _merge(
        _doc("wire", "2025-09-10", actors, [_battle("e1", "2025-09-09", "Dabara market", 14)]),
        _doc("local", "2025-09-10", actors, [_battle("e1", "2025-09-09", "Dabara", 17)]),
        _doc("later", "2025-09-11", actors, [_battle("e1", None, "market in Dabara", 21)]),
    )
    (event,) = result.events
    assert event["documents"] == ["batch.jsonl#later", "batch.jsonl#local", "batch.jsonl#wire"]
    assert (event["fatalities_min"], event["fatalities_max"], event["fatalities_disagree"]) == (14, 21, True)
    assert [t["value"] for t in event["fatalities_by_document"]] == [14, 17, 21]
    assert len(event["why"]) == 2 and "same type battle" in event["why"][0]
    assert "undated; published" in event["why"][1]
    assert event["perpetrators"] == ["Katiba Serma"]


def test_near_misses_do_not_merge_same_place_another_day_or_same_day_another_place_or_type() -> None:
    actors = [_actor("a1", "Katiba Serma")]
    result = _merge(
        _doc("first", "2025-09-10", actors, [_battle("e1", "2025-09-09", "Dabara", 14)]),
        _doc("week-later", "2025-09-17", actors, [_battle("e1", "2025-09-16", "Dabara", 6)]),
        _doc("elsewhere", "2025-09-10", actors, [_battle("e1", "2025-09-09", "Komanda", 4, admin1="Segou")]),
        _doc("other-type", "2025-09-10", actors, [_battle("e1", "2025-09-09", "Dabara", 14, type="protest")]),
    )
    assert len(result.events) == 4


def test_named_participants_must_overlap_and_events_of_one_document_never_merge() -> None:
    result = _merge(
        _doc("d1", "2025-09-10", [_actor("a1", "Katiba Serma")], [_battle("e1", "2025-09-09", "Dabara", 14)]),
        _doc("d2", "2025-09-10", [_actor("a1", "Jamaat Ansar")], [_battle("e1", "2025-09-09", "Dabara", 14, names=("Jamaat Ansar",)),
                                                                  _battle("e2", "2025-09-09", "Dabara", 3, names=("Jamaat Ansar",))]),
    )  # fmt: skip
    assert len(result.events) == 3


def test_a_chain_of_near_matches_does_not_glue_two_incidents() -> None:
    """Day 1 ~ day 2 and day 2 ~ day 3, but day 1 is not day 3: complete linkage keeps day 3 apart."""
    actors = [_actor("a1", "Katiba Serma")]
    result = _merge(
        _doc("d1", "2025-09-10", actors, [_battle("e1", "2025-09-01", "Dabara", 1)]),
        _doc("d2", "2025-09-10", actors, [_battle("e1", "2025-09-02", "Dabara", 1)]),
        _doc("d3", "2025-09-10", actors, [_battle("e1", "2025-09-03", "Dabara", 1)]),
    )
    assert [len(e["documents"]) for e in result.events] == [2, 1]


def test_sanctions_facts_dedupe_on_target_authority_measure_and_take_the_latest_status() -> None:
    def fact(id: str, target_id: str, status: str, measure: str = "asset_freeze") -> SanctionFact:
        return SanctionFact(id=id, target="Rapid Support Forces", target_id=target_id, authority="United States",
                            measure=measure, status=status, evidence=_ev("sanctioned"), grounded=True)  # fmt: skip

    result = _merge(
        _doc("d1", "2025-01-10", [_actor("a1", "Rapid Support Forces")], sanctions=[fact("s1", "a1", "imposed")]),
        _doc("d2", "2025-06-10", [_actor("a1", "RSF")], sanctions=[fact("s1", "a1", "lifted"), fact("s2", "a1", "lifted", "travel_ban")]),
    )  # fmt: skip
    freeze, ban = result.sanctions
    assert freeze["status"] == "lifted" and [s["status"] for s in freeze["statuses"]] == ["imposed", "lifted"]
    assert freeze["documents"] == ["batch.jsonl#d1", "batch.jsonl#d2"] and ban["documents"] == ["batch.jsonl#d2"]
    assert result.summary() == "2 document(s): actors 2 -> 1, events 0 -> 0, sanctions 3 -> 2"


def test_merge_is_deterministic() -> None:
    docs = [_doc("d1", "2025-09-10", [_actor("a1", "Katiba Serma")], [_battle("e1", "2025-09-09", "Dabara", 14)]),
            _doc("d2", "2025-09-10", [_actor("a1", "Katiba Serma")], [_battle("e1", "2025-09-09", "Dabara", 17)])]  # fmt: skip
    assert list(_merge(*docs).rows()) == list(_merge(*docs).rows())


def test_pairwise_score_counts_pairs_of_gold_documents() -> None:
    gold = {"A": ["a1", "a2", "a3"], "B": ["b1"], "C": ["c1", "c2"]}
    merged = [
        {"documents": ["x.jsonl#a1", "x.jsonl#a2"]},  # a1-a2 right; a3 left alone: 2 pairs missed
        {"documents": ["x.jsonl#a3"]},
        {"documents": ["x.jsonl#b1", "x.jsonl#c1", "x.jsonl#c2"]},  # c1-c2 right; b1 glued on: 2 false pairs
        {"documents": ["x.jsonl#unknown", "x.jsonl#a1"]},  # a document gold does not know is ignored
    ]
    score = score_merge(merged, gold)
    assert score["pairs"] == {"tp": 2, "fp": 2, "fn": 2}
    assert score["precision"] == 0.5 and score["recall"] == 0.5
    assert {tuple(p["documents"]) for p in score["wrong_pairs"]} == {("a1", "a3"), ("a2", "a3"), ("b1", "c1"), ("b1", "c2")}


def test_document_ids_from_jsonl_names_files_and_case_folders() -> None:
    assert document_id("evals/merge/articles.jsonl#dabara-wire") == "dabara-wire"
    assert document_id("news/dabara-wire.txt") == "dabara-wire"
    assert document_id("evals/syria-desert-ambush/article.txt") == "syria-desert-ambush"


def test_places_are_compared_across_fields_and_participants_through_their_aliases() -> None:
    """A model that writes the village as admin1 and the province as the country, and a group
    named by its acronym in one report and as "MDK rebels" in the other, still merges."""
    one = _doc("wire", "2025-10-06", [_actor("a1", "Mouvement pour la Défense du Kivu", aliases=["MDK"])],
               [_battle("e1", "2025-10-05", "Bilenge", 11, admin1="North Kivu")])  # fmt: skip
    two_event = _battle("e1", "2025-10-05", "North Kivu", 15, names=("MDK rebels",), admin1="Bilenge")
    two_event.country = "North Kivu"
    two = _doc("radio", "2025-10-06", [_actor("a1", "MDK rebels")], [two_event])
    (event,) = _merge(one, two).events
    assert event["documents"] == ["batch.jsonl#radio", "batch.jsonl#wire"]
    assert "place 'North Kivu' ~ 'North Kivu' (100)" in event["why"][0]  # location of one, admin1 of the other
    assert "participants 'MDK rebels' ~ 'MDK' (100)" in event["why"][0]
