"""The items of an answer shaped `{"<key>": [item, item, ...]}`, followed byte by byte.

Every draft answer (extractor.passes) is one object holding one list of flat items. Two
stages need to know where its items start and end while the JSON is incomplete: the local
backend's loop guard (a repeated item, during decoding) and the pipeline (the complete items
of an answer cut off at max_tokens).
"""

from __future__ import annotations

import re


class ItemTracker:
    """Follows the bytes of `{"key":[ item, item, ... ]}` and the items inside the list."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escape = False
        self.current = bytearray()  # the item being written (depth >= 3), from its "{"
        self.items: set[bytes] = set()  # complete items, closing brace included
        self.prefixes: set[bytes] = set()  # the same without their closing brace
        self.consumed = 0  # bytes fed so far
        self.last_item_end = 0  # offset just after the last complete item

    def feed(self, data: bytes) -> None:
        """Consume more of the answer's text; track the items of its top-level list."""
        for byte in data:
            self.consumed += 1
            char = chr(byte)
            if self.depth >= 3 or (self.depth == 2 and char == "{" and not self.in_string):
                self.current.append(byte)
            if self.in_string:
                if self.escape:
                    self.escape = False
                elif char == "\\":
                    self.escape = True
                elif char == '"':
                    self.in_string = False
                continue
            if char == '"':
                self.in_string = True
            elif char in "{[":
                self.depth += 1
            elif char in "}]":
                self.depth -= 1
                if self.depth == 2 and char == "}":
                    item = bytes(self.current)
                    self.items.add(item)
                    self.prefixes.add(item[:-1])
                    self.current.clear()
                    self.last_item_end = self.consumed

    def repeating(self) -> bool:
        """True when the item being written equals an earlier item but for its closing brace
        (and for the sentence number a v3 item cites: the same incident cited from another
        sentence is a repeat too)."""
        if self.depth != 3 or self.in_string:
            return False
        current = bytes(self.current)
        if current in self.prefixes:
            return True
        if b'"sentence":' not in current:
            return False
        masked = _mask_sentence(current)
        return any(masked == _mask_sentence(prefix) for prefix in self.prefixes)


_SENTENCE_NUMBER = re.compile(rb'"sentence":\s*\d+')


def _mask_sentence(item: bytes) -> bytes:
    return _SENTENCE_NUMBER.sub(b'"sentence":#', item)


def close_after_last_item(text: str) -> str | None:
    """A truncated answer cut back to its last complete item and closed (`...}]}`), or None
    when no item was complete or the text is not shaped like an answer."""
    data = text.encode("utf-8")
    tracker = ItemTracker()
    tracker.feed(data)
    if tracker.last_item_end == 0 or tracker.depth < 2:
        return None
    return data[: tracker.last_item_end].decode("utf-8", errors="ignore") + "]}"
