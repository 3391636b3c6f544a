"""PostgreSQL extensions that make things faster where the server has them, and are optional."""

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper


def ensure_extension(connection: BaseDatabaseWrapper, name: str) -> bool:
    """Create the extension if the server offers it and we may; say whether it is installed.

    Creating one needs a privilege an application's role may lack; that is not an error here,
    only a missing speed-up, so the caller's transaction is kept usable with a savepoint.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT installed_version FROM pg_available_extensions WHERE name = %s", [name])
        row = cursor.fetchone()
        if row is None:
            return False
        if row[0] is not None:
            return True
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
        except DatabaseError:
            return False
        return True
