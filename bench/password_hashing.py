"""CPU time of one login's password check, per hasher, measured in one run: Django's PBKDF2
(the preferred hasher before bcrypt) against the original course API's bcrypt
(accounts/hashers.py, the preferred one now), each at the cost the settings give it.

    .venv/bin/python bench/password_hashing.py [--rounds 5] [--checks 10]

Rounds go in turns; each checks the password `--checks` times with each hasher and measures
this process's CPU time; the least round is kept (neighbours only ever add to it).
"""

import argparse
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--checks", type=int, default=10)
    args = parser.parse_args()
    # The hashers need Django's settings, not a database.
    from django.conf import settings

    settings.configure(USE_TZ=True)
    django.setup()
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from accounts.hashers import PasslibBCryptPasswordHasher

    hashers = {
        "pbkdf2_sha256": PBKDF2PasswordHasher(),
        "bcrypt (the original's)": PasslibBCryptPasswordHasher(),
    }
    password = "bench-password-123"  # noqa: S105
    encoded = {name: hasher.encode(password, hasher.salt()) for name, hasher in hashers.items()}
    best = dict.fromkeys(hashers, float("inf"))
    for _ in range(args.rounds):
        for name, hasher in hashers.items():
            started = time.process_time()
            for _ in range(args.checks):
                if not hasher.verify(password, encoded[name]):
                    raise SystemExit(f"{name} did not verify its own hash")
            best[name] = min(best[name], (time.process_time() - started) / args.checks)
    first = next(iter(best.values()))
    print(f"one password check, CPU ms (least of {args.rounds} rounds of {args.checks}):")
    for name, seconds in best.items():
        print(
            f"  {name:24} {1000 * seconds:7.1f} ms  {seconds / first:5.2f}x  ({_cost(hashers[name].decode(encoded[name]))})"
        )


def _cost(decoded: dict) -> str:
    if "iterations" in decoded:
        return f"{decoded['iterations']:,} iterations"
    return f"cost {decoded['work_factor']}: 2^{decoded['work_factor']} rounds"


if __name__ == "__main__":
    main()
