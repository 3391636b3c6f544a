"""Reading the environment: one source of configuration for settings.py and gunicorn.conf.py.

Both read the process environment first and a ``.env`` file in the working directory second
(a variable set in the environment wins, as with docker compose and systemd). Every reader is
strict: a value it cannot use raises :class:`ConfigurationError` with one line that names the
variable and the values it takes, instead of quietly falling back to a default.

Importing this module needs nothing from Django's settings, so gunicorn's configuration file can
use it before Django is set up.
"""

import difflib
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from dotenv import dotenv_values, load_dotenv

DOTENV = Path.cwd() / ".env"
# Every variable the project reads is listed there (deploy/tests/test_image.py holds it to that).
EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
load_dotenv(DOTENV)

#: The highest TCP port (PORT, EMAIL_PORT): a larger one fails only when it is used.
PORT_MAX = 65_535
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_RATE = re.compile(r"\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)s?\s*", re.IGNORECASE)
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigurationError(ImproperlyConfigured):
    """A variable's value cannot be used. The message is one line, fit to print as it is."""


@dataclass(frozen=True)
class Rate:
    """A rate limit: at most ``limit`` events per ``period`` seconds."""

    limit: int
    period: int  # seconds


@lru_cache
def parse_rate(value: str) -> Rate:
    """``"10/minute"`` (also ``second``, ``hour``, ``day``, or their first letter) as a Rate.

    Raises ValueError for anything else.
    """
    match = _RATE.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a rate like '10/minute'")
    return Rate(int(match[1]), _PERIODS[match[2][0].lower()])


def env(name: str, default: str = "") -> str:
    """The variable's value with surrounding blanks removed; ``default`` when unset or empty."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool = False) -> bool:
    """true/1/yes/on or false/0/no/off (any case); ``default`` when unset or empty.

    Raises ConfigurationError for any other value (``DEBUG=ture`` must not mean off).
    """
    value = env(name).lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"{name}={os.environ[name].strip()!r} is not a boolean: use one of {', '.join(_TRUE + _FALSE)}."
    )


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number of at least ``minimum`` (and at most ``maximum`` when given); ``default``
    when unset or empty.

    Raises ConfigurationError for anything else (``NUM_PROXIES=one``).
    """
    value = env(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        bounds = f"of at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ConfigurationError(f"{name}={value!r} is not a whole number {bounds}.")
    return number


def env_rate(name: str, default: str) -> str:
    """A rate such as ``10/minute`` (per second, minute, hour or day), checked; ``default`` when
    unset or empty. Raises ConfigurationError for anything else."""
    value = env(name, default)
    try:
        parse_rate(value)
    except ValueError:
        raise ConfigurationError(
            f"{name}={value!r} is not a rate: use a count per second, minute, hour or day, e.g. 10/minute."
        ) from None
    return value


def env_list(name: str, default: str) -> list[str]:
    """Comma-separated items, blanks removed; the default's items when unset or empty."""
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def misspelt_names(dotenv: Path = DOTENV, example: Path = EXAMPLE) -> list[str]:
    """A warning line for each name set in `dotenv` that nothing reads but that looks like one
    that is read (``DATABSE_URL``): unnoticed, such a typo falls back to a default, e.g. the
    embedded database. Names unlike any known one are the user's own business. Empty without
    either file (the image holds neither)."""
    if not dotenv.is_file() or not example.is_file():
        return []
    known = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example.read_text(), re.MULTILINE))
    warnings = []
    for name in dotenv_values(dotenv):
        if name not in known and (close := difflib.get_close_matches(name, known, n=1, cutoff=0.8)):
            warnings.append(
                f"warning: {dotenv.name} sets {name}, which nothing reads: did you mean {close[0]}?"
            )
    return warnings


def warn_misspelt_names() -> None:
    """Print misspelt_names() on stderr, once for a process and the processes it starts (make
    run goes through the embedded database's wrapper, then gunicorn)."""
    if os.environ.get("CONFIG_ENV_NAMES_CHECKED"):
        return
    os.environ["CONFIG_ENV_NAMES_CHECKED"] = "1"
    for line in misspelt_names():
        print(line, file=sys.stderr)


def check_whole_numbers(names: list[str]) -> int:
    """``python -m environment.variables NAME ...``: exit status 1 and one line on stderr when a named
    variable is set to something other than a whole number, else 0.

    For the numbers gunicorn converts itself when it is imported (WEB_CONCURRENCY), before it
    reads gunicorn.conf.py: ``int('many')`` there is a 15-line traceback. ``make run`` checks
    them first."""
    for name in names:
        try:
            env_int(name, 0)
        except ConfigurationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(check_whole_numbers(sys.argv[1:]))
