"""Password hashers beyond Django's own."""

from django.contrib.auth.hashers import BCryptPasswordHasher

BCRYPT_MAX_BYTES = 72


class PasslibBCryptPasswordHasher(BCryptPasswordHasher):
    """Checks the bcrypt hashes imported from the original course API ("bcrypt$" + passlib's hash).

    passlib hashed only the first 72 bytes of a password, as bcrypt always did; the bcrypt
    package (5.x) refuses longer passwords instead of truncating them, which would turn a login
    with a long password into a server error. Truncating here keeps the original's behaviour.
    Django re-hashes with the preferred hasher on the first successful login.
    """

    def encode(self, password: str, salt: str | bytes) -> str:
        password_bytes = password.encode() if isinstance(password, str) else bytes(password)
        # Django's bcrypt hasher takes bytes too (force_bytes); django-stubs declares str.
        return super().encode(password_bytes[:BCRYPT_MAX_BYTES], salt)  # type: ignore[arg-type]
