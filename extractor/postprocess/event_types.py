"""An event's type and newness, read from the sentence the model cited for it.

A small model picks one violent type for most incidents (whichever its examples showed most),
while ACLED's codebook decides the type by the *method*: explosive or remote weapons make an
explosion/remote violence event; armed violence without them is a battle between armed
sides, or violence against civilians when only civilians are targeted; a demonstration whose
crowd turns to destruction (arson, looting, stone-throwing) is a riot, not a peaceful
protest (the model reads "protesters" and writes protest). And ACLED records new
incidents: an event whose cited sentence dates it two or more years before publication is the
article's background (a trial, an anniversary, a history paragraph), not news.

So:
- for the three violent types, the cited sentence names an explosive or remote weapon and no ground fighting: the event
  is explosion/remote violence;
- an event typed explosion/remote violence whose sentence names no such weapon: violence against civilians
  when every target is a civilian group, else a battle;
- an event typed protest whose sentence states destruction by the crowd: a riot;
- an event of any type whose date is two or more years before publication is dropped; an
  event without a date, when every year its sentence names is.
Each change is counted in the document's warnings. The words are English; assembly skips these
rules on a text that `text.language` does not judge English.
"""

from __future__ import annotations

import re
from datetime import date

from extractor.schemas import Event, EventType

_VIOLENT = {"battle", "explosion_remote_violence", "violence_against_civilians"}
_REMOTE = re.compile(
    r"\b(?:air ?strikes?|air raids?|drones?|strikes?|struck by|(?:fighter |military )?jets|warplanes?|gunships?|"
    r"shell(?:s|ed|ing|fire)?|bomb\w*|explo\w*|blasts?|mortars?|rockets?|missiles?|artillery|ieds?|"
    r"improvised explosive|grenades?|land ?mines?|car bomb|suicide bomber)\b",
    re.IGNORECASE,
)
_GROUND = re.compile(
    r"\b(?:clash\w*|fight(?:s|ing)?|fought|battl\w*|firefights?|gunfights?|exchange of fire|ambush\w*|ground attack|"
    r"gunmen|shot|shooting|stormed|overran|raid\w*|machetes?|abduct\w*|kidnap\w*|repel\w*)\b",
    re.IGNORECASE,
)
_CIVILIAN = re.compile(
    r"\b(?:civilians?|villagers?|residents?|people|persons|worshippers?|students?|pupils?|passengers?|"
    r"migrants?|refugees?|displaced|farmers?|herders?|miners?|women|children|men|bystanders?|families|"
    r"patients?|workers?|traders?|motorists?|shoppers?|mourners?|journalists?|aid workers?)\b",
    re.IGNORECASE,
)
_ARMED = re.compile(
    r"\b(?:soldiers?|troops?|army|armed|forces?|military|police|officers?|fighters?|militants?|militia\w*|"
    r"rebels?|guards?|positions?|base|camp of|convoy|gendarmes?|jihadists?|insurgents?)\b",
    re.IGNORECASE,
)
#: destruction by a crowd (what the crowd does, never what is done to it: no tear gas, no shots)
_RIOTING = re.compile(
    r"\b(?:set (?:fire|ablaze)|torch(?:ed|ing)|loot\w*|ransack\w*|vandali[sz]\w*|smash(?:ed|ing)|"
    r"(?:threw|throwing|hurl\w*) (?:stones|rocks|petrol bombs|molotov)|stone-throwing|pelt\w*|"
    r"clash(?:ed|es)? with (?:police|security forces|riot police))",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def _civilian_only(targets: list[str]) -> bool:
    return bool(targets) and all(_CIVILIAN.search(t) and not _ARMED.search(t) for t in targets)


def method_type(event: Event) -> str:
    """The type the cited sentence's method gives a violent event or a protest (its own type otherwise)."""
    if event.evidence is None:
        return event.type
    if event.type == "protest":
        return "riot" if _RIOTING.search(event.evidence.quote) else "protest"
    if event.type not in _VIOLENT:
        return event.type
    quote = event.evidence.quote
    remote, ground = bool(_REMOTE.search(quote)), bool(_GROUND.search(quote))
    if remote and not ground:
        return "explosion_remote_violence"
    if event.type == "explosion_remote_violence" and not remote:
        return "violence_against_civilians" if _civilian_only(event.targets) else "battle"
    return event.type


def is_background(event: Event, published: date | None) -> bool:
    """True when the event's date, or without one every year its sentence names, is two or more
    years before publication."""
    if published is None:
        return False
    if event.date and _YEAR.match(event.date):  # its own date decides when it has one
        return int(event.date[:4]) <= published.year - 2
    years = [int(y) for y in _YEAR.findall(event.evidence.quote)] if event.evidence else []
    return bool(years) and max(years) <= published.year - 2


def apply_method_and_newness(events: list[Event], published: date | None) -> tuple[list[Event], list[str]]:
    """Events retyped by method and without background ones; warnings say how many of each."""
    kept: list[Event] = []
    retyped = background = 0
    for event in events:
        if is_background(event, published):
            background += 1
            continue
        new_type = method_type(event)
        if new_type != event.type:
            event = event.model_copy(update={"type": EventType(new_type)})
            retyped += 1
        kept.append(event)
    warnings = []
    if retyped:
        warnings.append(f"retyped {retyped} event(s) by the method their sentence states")
    if background:
        warnings.append(f"dropped {background} event(s) that their sentence dates two or more years back")
    return kept, warnings
