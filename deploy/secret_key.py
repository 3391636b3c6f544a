"""Make the deployment's signing key once: a random key in a file that every instance reads.

Run by the compose file's one-shot `secret-key` service before `migrate` and `web`, which read
the file through `SECRET_KEY_FILE` when `SECRET_KEY` is not set. So `docker compose up` with no
`.env` signs tokens with a key of its own, never a published one, and the key survives restarts
and is the same for every instance that mounts the volume.

    python deploy/secret_key.py PATH     # exit 0: PATH holds a key (made now, or kept)

The key is 64 URL-safe characters from `secrets` (384 bits). An existing file is never
replaced: two concurrent runs agree on one key (the file appears whole, by a hard link that
fails if the name exists).
"""

import os
import secrets
import sys
import tempfile
from pathlib import Path


def ensure_key(path: Path) -> bool:
    """Write a new key to `path` unless a non-empty one is there. True if a key was made.

    Raises OSError when the directory cannot be written (e.g. the volume is read-only).
    """
    if path.exists():
        if path.read_text().strip():
            return False
        # Empty, so not made here (a key made here appears whole): replace it.
        path.unlink()
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key-")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        os.chmod(temporary, 0o400)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python deploy/secret_key.py PATH", file=sys.stderr)
        return 2
    path = Path(sys.argv[1])
    made = ensure_key(path)
    print(f"{'made a new' if made else 'kept the'} signing key in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
