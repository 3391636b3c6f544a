import unicodedata

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower, Now


def _unicode_label(label: str) -> str:
    """A domain label as Unicode: ``xn--bcher-kva`` is ``bücher`` (RFC 3492); others as given."""
    if label[:4].lower() == "xn--":
        try:
            return label[4:].encode("ascii").decode("punycode")
        except UnicodeError:
            return label
    return label


class UserManager(BaseUserManager):
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

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> "User":
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person with an account. The email address is the login."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", max_length=254, unique=True)
    # Set by the database's clock; shown to API clients as `created_at`.
    date_joined = models.DateTimeField("date joined", db_default=Now())

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lower_case"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)
