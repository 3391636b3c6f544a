import secrets
import unicodedata
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import MD5, Cast, Lower, Now, Substr

SECURITY_STAMP_LENGTH = 22


def new_security_stamp() -> str:
    """A fresh random stamp: 16 random bytes, URL-safe base64 (22 characters)."""
    return secrets.token_urlsafe(16)


def _unicode_label(label: str) -> str:
    """A domain label as Unicode: ``xn--bcher-kva`` is ``bücher`` (RFC 3492); others as given."""
    if label[:4].lower() == "xn--":
        try:
            return label[4:].encode("ascii").decode("punycode")
        except UnicodeError:
            return label
    return label


class UserManager(BaseUserManager["User"]):
    """Users are found and created by email, which is stored in one form (normalize_email)."""

    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """The one stored form of an address, whatever spelling the user types.

        Surrounding whitespace is dropped; the text is NFC-normalized (the same letters typed
        composed or decomposed are one address); an internationalized domain is written in
        Unicode, as the original API stored it, even when typed in its ASCII form
        (``pia@xn--bcher-kva.example`` is ``pia@bücher.example``); and the whole address is
        lower-cased (the contract: emails are case-insensitive). Signup, login, the duplicate
        check and ``import_course_db`` all go through here.
        """
        email = unicodedata.normalize("NFC", (email or "").strip())
        local, at, domain = email.rpartition("@")
        if at:
            domain = ".".join(_unicode_label(label) for label in domain.split("."))
            email = unicodedata.normalize("NFC", f"{local}@{domain}")
        return email.lower()

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        extra_fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person with an account. The email address is the login."""

    # No username and no names: AbstractUser's fields removed, as Django's docs show.
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", max_length=254, unique=True)
    # Set by the database's clock; shown to API clients as `created_at`.
    date_joined = models.DateTimeField("date joined", db_default=Now())
    # Copied into every token issued to the user and compared on every use (the "security
    # stamp" of ASP.NET Identity): replacing it ends every session at once, on every instance.
    # The database default covers rows written without the ORM (manage.py import_course_db).
    security_stamp = models.CharField(
        "security stamp",
        max_length=SECURITY_STAMP_LENGTH,
        default=new_security_stamp,
        db_default=Substr(MD5(Cast(RandomUUID(), models.TextField())), 1, SECURITY_STAMP_LENGTH),
        editable=False,
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    # Not django.contrib.auth's UserManager, which AbstractUser declares: ours has no usernames.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]
    # Set by AbstractBaseUser.set_password(): the new raw password until the next save, else None.
    _password: str | None

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lower_case"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._sessions_end = True  # staff turned password login off: no session may outlive it

    def save(self, **kwargs: Any) -> None:
        """Save, and end every session of the user when the password changed (whoever changed
        it: the API, a reset, the admin's form, ``manage.py changepassword``) or the user is
        inactive. Django's hash upgrade at login is not a change (``_password`` stays None)."""
        ending = not self._state.adding and (
            self._password is not None or getattr(self, "_sessions_end", False) or not self.is_active
        )
        if ending:
            self.security_stamp = new_security_stamp()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "security_stamp"}
        super().save(**kwargs)
        self._sessions_end = False
        if ending:
            from accounts.sessions import blacklist_outstanding  # the token app loads after this one

            blacklist_outstanding(self)

    def end_all_sessions(self) -> None:
        """Log out everywhere: every access and refresh token issued so far stops working."""
        self._sessions_end = True
        self.save(update_fields=["security_stamp"])
