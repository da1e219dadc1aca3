"""The batching plan of the local backend (backends/local/batching): where a prompt's llama.cpp
batches start, and how much of a cached context a new prompt may keep."""

from extractor.backends.local.batching import batch_starts, content_ends, reusable, shared_prefix

# A chat-shaped token list, one piece per token: <s>system: R U L E S</s><u>A R T</u><u>T A S K</u>
PIECES = [b"<s>", b"RU", b"LES", b"</s>", b"<u>", b"AR", b"T", b"</u>", b"<u>", b"TASK", b"</u>"]


def test_each_content_ends_one_token_before_the_token_that_completes_it():
    assert content_ends(PIECES, ["RULES", "ART"]) == [2, 6]


def test_a_content_that_is_not_found_ends_the_anchors():
    assert content_ends(PIECES, ["RULES", "missing", "ART"]) == [2]
    assert content_ends(PIECES, []) == []


def test_a_repeated_content_is_found_after_the_previous_one():
    pieces = [b"A", b"B", b"|", b"A", b"B", b"|", b"C"]
    assert content_ends(pieces, ["AB", "AB"]) == [1, 4]


def test_batches_start_at_zero_and_each_anchor_then_every_n_batch_tokens():
    assert batch_starts(1400, [674], 512) == [0, 512, 674, 1186]
    assert batch_starts(1400, [674, 900], 512) == [0, 512, 674, 900]
    assert batch_starts(600, [], 512) == [0, 512]
    assert batch_starts(600, [600, 700], 512) == [0, 512]  # anchors at or past the end are ignored


def test_a_prompt_keeps_the_last_batch_start_both_plans_share():
    old = batch_starts(1300, [674, 1200], 512)  # [0, 512, 674, 1186, 1200]
    new = batch_starts(1250, [674, 1200], 512)
    assert reusable(old, 1300, new, shared=1240) == 1200
    assert reusable(old, 1300, new, shared=1190) == 1186
    assert reusable(old, 1300, new, shared=600) == 512


def test_plans_that_differ_keep_only_what_precedes_the_first_difference():
    old = batch_starts(1300, [674, 1000], 512)  # [0, 512, 674, 1000]
    new = batch_starts(1400, [674, 1150], 512)  # [0, 512, 674, 1150]
    assert reusable(old, 1300, new, shared=1100) == 674


def test_the_cached_prompts_end_counts_as_a_batch_start():
    # A restored state: 674 tokens evaluated from 0, its end the new prompt's first anchor.
    assert reusable([0, 512], 674, batch_starts(1000, [674], 512), shared=674) == 674
    # ... but a cache that ended mid-segment of the new plan keeps only the last shared start.
    assert reusable([0, 512], 600, batch_starts(1000, [674], 512), shared=600) == 512


def test_shared_prefix_stops_at_the_first_difference():
    assert shared_prefix([1, 2, 3, 4], [1, 2, 9, 4]) == 2
    assert shared_prefix([1, 2], [1, 2, 3]) == 2
    assert shared_prefix([], [1]) == 0
