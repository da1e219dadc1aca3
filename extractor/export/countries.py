"""Country names as codes, through the libraries that own the lists.

FollowTheMoney's country type (backed by `rigour`'s territory names) turns the name an article
uses ("Democratic Republic of Congo", "Syria") into an ISO 3166 alpha-2 code; `pycountry`
holds ISO 3166's numeric codes, which ACLED's `iso` column uses. Both come with the `export`
extra; a name neither knows stays without a code rather than getting a guessed one.
"""

from __future__ import annotations

from functools import lru_cache

from extractor.errors import ConfigError

EXTRA_HINT = "pip install 'extractor[export]' (followthemoney, pycountry)"


def require(format_name: str) -> None:
    """Fail with one line when the export extra is missing."""
    try:
        import followthemoney  # noqa: F401
        import pycountry  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"--format {format_name} needs the export extra ({exc.name} is not installed): {EXTRA_HINT}") from None


@lru_cache(maxsize=4096)
def alpha2(name: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code (lower case, FtM's convention) for a country name or code."""
    if not name or not name.strip():
        return None
    from followthemoney.types import registry

    return registry.country.clean(name.strip())


@lru_cache(maxsize=4096)
def numeric(name: str | None) -> str | None:
    """ISO 3166-1 numeric code ("760" for Syria) for a country name, or None."""
    code = alpha2(name)
    if code is None:
        return None
    import pycountry

    country = pycountry.countries.get(alpha_2=code.upper())
    return country.numeric if country is not None else None
