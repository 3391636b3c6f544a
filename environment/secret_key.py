"""SECRET_KEY for config/settings.py: where it is read from, and which keys are refused.

The key signs the API's tokens and the admin's sessions, so a production process (DEBUG off)
refuses keys that anyone can read (published examples) or guess (short or repetitive ones).
deploy/secret_key.py is the other side: it makes a key and keeps it in a file.
"""

from pathlib import Path

from environment.variables import ConfigurationError

# Published example keys: anyone could sign tokens with them. Key: what to call it in the error.
PUBLISHED_SECRET_KEYS = {
    "change-me-to-a-long-random-string": "the example key of .env.example",
    # The course's own example (its README and videos): 64 hex characters, but public.
    "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7": (
        "the course's published example key"
    ),
    # docker-compose.yml's default before it made a key of its own.
    "local-trial-only-insecure-key-set-SECRET_KEY-in-.env": "docker-compose.yml's former default key",
}


def secret_key_from(secret_key: str, *, key_file: str, debug: bool) -> str:
    """``secret_key`` (SECRET_KEY), else the contents of the file ``key_file`` (SECRET_KEY_FILE)
    names (e.g. made once by deploy/secret_key.py, as docker-compose.yml does), surrounding
    blanks removed.

    Raises ConfigurationError when neither gives a key or the file cannot be read, and, unless
    ``debug`` (DEBUG), for a published example key or a weak one: under 50 characters, under 5
    distinct characters, or Django's ``django-insecure-`` placeholder.
    """
    if not secret_key and key_file:
        try:
            secret_key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise ConfigurationError(
                f"SECRET_KEY_FILE={key_file!r} cannot be read ({exc.strerror}): set SECRET_KEY, or point "
                "SECRET_KEY_FILE at the file that holds the key."
            ) from None
    if not secret_key:
        raise ConfigurationError(
            "SECRET_KEY is not set: set it to 50 or more random characters, e.g. $(openssl rand -base64 48) "
            "(make run keeps a local one in .local/secret_key)."
        )
    if not debug:
        if secret_key in PUBLISHED_SECRET_KEYS:
            raise ConfigurationError(
                f"SECRET_KEY is {PUBLISHED_SECRET_KEYS[secret_key]}, which anyone can read: replace it "
                "with 50 or more random characters, e.g. $(openssl rand -base64 48)."
            )
        if len(secret_key) < 50 or len(set(secret_key)) < 5 or secret_key.startswith("django-insecure-"):
            raise ConfigurationError(
                "SECRET_KEY is too weak: use at least 50 random characters, e.g. $(openssl rand -base64 48)."
            )
    return secret_key
