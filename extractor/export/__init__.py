"""`extractor export`: the project's JSONL turned into what analysts work in.

One module per format (review page, ACLED table, FollowTheMoney entities, flat CSV), each a
`write(documents, out, ...)` over the same stream that `reader` yields, so adding a format
never touches the others. Formats read finished output only; none calls a model.
"""
