"""Password hashers beyond Django's own."""

from django.contrib.auth.hashers import BCryptPasswordHasher

BCRYPT_MAX_BYTES = 72


class PasslibBCryptPasswordHasher(BCryptPasswordHasher):
    """The project's preferred hasher: the original course API's bcrypt, so that every hash kept
    here is one the original's passlib verifies ("bcrypt$" + ``$2b$12$`` + 53 characters; the
    part after "bcrypt$" is passlib's hash as it is).

    Django's ``BCryptPasswordHasher`` ("bcrypt$") hashes the password itself, as passlib does;
    its sibling ``BCryptSHA256PasswordHasher`` ("bcrypt_sha256$") hashes a SHA-256 digest of it,
    which the original could not verify. The cost is bcrypt's 12 rounds, the original's (passlib's
    default): its hashes are kept as they are, and a hash of another cost is re-hashed at the
    next login (``must_update``).

    bcrypt reads only the first 72 bytes of a password. passlib truncated longer ones silently,
    as bcrypt always did; the bcrypt package (5.x) refuses them instead, which would turn a login
    with a long password into a server error. Truncating here keeps the original's behaviour, so
    a password of more than 72 bytes logs in here and there alike (and its bytes past the 72nd
    are not checked, in either).
    """

    def encode(self, password: str, salt: str | bytes) -> str:
        password_bytes = password.encode() if isinstance(password, str) else bytes(password)
        # Django's bcrypt hasher takes bytes too (force_bytes); django-stubs declares str.
        return super().encode(password_bytes[:BCRYPT_MAX_BYTES], salt)  # type: ignore[arg-type]
