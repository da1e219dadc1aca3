"""Gold cases of the eval-set contract (docs/EVAL_FORMAT.md): the models and their loader.

Gold fields that are absent or null are not scored. Any gold scalar may be `{"any_of": [...]}`;
it is stored as a tuple of options, any of which counts as correct (a plain scalar is a 1-tuple).
`load_gold` reads one gold.json and raises `GoldError` with one line naming the file and the
first problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from extractor.errors import GoldError

# --------------------------------------------------------------------------------------------
# Enumerations of the contract
# --------------------------------------------------------------------------------------------

ActorKind = Literal[
    "person",
    "state_forces",
    "armed_group",
    "government",
    "international_organization",
    "ngo",
    "media",
    "company",
    "other",
]
EventType = Literal[
    "battle",
    "explosion_remote_violence",
    "violence_against_civilians",
    "protest",
    "riot",
    "strategic_development",
]
Measure = Literal[
    "terrorist_designation",
    "sanctions_listing",
    "asset_freeze",
    "travel_ban",
    "arms_embargo",
    "trade_restriction",
    "reward",
    "other",
]
Status = Literal["imposed", "in_force", "under_review", "lifted"]

ACTOR_KINDS: tuple[str, ...] = get_args(ActorKind)
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
MEASURES: tuple[str, ...] = get_args(Measure)
STATUSES: tuple[str, ...] = get_args(Status)


# --------------------------------------------------------------------------------------------
# Gold model
# --------------------------------------------------------------------------------------------


T = TypeVar("T")


def _as_options(value: Any) -> Any:
    """Turn a gold scalar or `{"any_of": [...]}` into a tuple of acceptable values."""
    if isinstance(value, Mapping):
        options = value.get("any_of")
        if set(value) != {"any_of"} or not isinstance(options, list) or not options:
            raise ValueError('expected a value or {"any_of": [at least one value]}')
        return tuple(options)
    return (value,)


Options = Annotated[tuple[T, ...], BeforeValidator(_as_options)]
"""A gold scalar, stored as the tuple of values that count as correct."""

_DATE_RE = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def is_date_text(value: object) -> bool:
    """True for an ISO date `YYYY-MM-DD` or month `YYYY-MM` naming a real day or month."""
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value if len(value) == 10 else value + "-01")
    except ValueError:
        return False
    return True


def _check_date_text(value: str) -> str:
    if not is_date_text(value):
        raise ValueError("expected an ISO date YYYY-MM-DD or a month YYYY-MM")
    return value


Name = Annotated[str, Field(min_length=1)]
DateText = Annotated[str, AfterValidator(_check_date_text)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class _GoldModel(BaseModel):
    """Base of the gold models: unknown keys ignored, values frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class GoldActor(_GoldModel):
    """A gold actor: name, aliases, kind."""

    name: Name
    aliases: list[Name] = []
    kind: Options[ActorKind] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The actor's name followed by its aliases."""
        return (self.name, *self.aliases)


class GoldEvent(_GoldModel):
    """A gold event."""

    type: Options[EventType]
    perpetrators: list[Options[Name]] = []
    targets: list[Options[Name]] = []
    country: Options[Name] | None = None
    admin1: Options[Name] | None = None
    fatalities: Options[Annotated[int, Field(ge=0)]] | None = None
    date: Options[DateText] | None = None
    location: Options[Name] | None = None


class GoldSanction(_GoldModel):
    """A gold sanctions fact."""

    target: Options[Name]
    authority: Options[Name] | None = None
    measure: Options[Measure]
    status: Options[Status] | None = None
    amount: Options[Annotated[float, Field(ge=0)]] | None = None
    currency: Options[Currency] | None = None
    program: Options[Name] | None = None


class GoldCase(_GoldModel):
    """One case: its id, publication date and the three gold lists."""

    id: Name
    published: date | None = None
    actors: list[GoldActor] = []
    events: list[GoldEvent] = []
    sanctions: list[GoldSanction] = []


def _describe(error: ValidationError) -> str:
    """One line naming where the first validation problem is and what it is."""
    errors = error.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "top level"
    text = f"{where}: {first['msg']}"
    if first["type"] != "missing":
        text += f" (got {_short_repr(first['input'])})"
    if len(errors) > 1:
        text += f" (+{len(errors) - 1} more)"
    return text


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_gold(path: Path) -> GoldCase:
    """Read and validate one gold.json; raise GoldError with a one-line message naming the file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GoldError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise GoldError(f"{path}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise GoldError(f"{path}: invalid JSON: {exc}") from exc
    except RecursionError:
        raise GoldError(f"{path}: invalid JSON: nested too deeply") from None
    try:
        return GoldCase.model_validate(raw)
    except ValidationError as exc:
        raise GoldError(f"{path}: {_describe(exc)}") from exc
    except RecursionError:
        raise GoldError(f"{path}: nested too deeply to be a gold file") from None
