"""Deleting a user with SQL (`DELETE FROM accounts_user WHERE id = 3`), as operators of the
original do, deletes what belongs to the user, as posts and votes already do: the user's
refresh-token records (SimpleJWT's outstanding tokens, and their blacklist entries), group and
permission memberships, and admin history. Django deletes these itself when it deletes a user;
only the database's foreign keys change (ON DELETE CASCADE), keeping their names. Reversible.
"""

from django.db import migrations

# (table, column, referenced table): every foreign key here that stands in a user's way.
FOREIGN_KEYS = [
    ("token_blacklist_outstandingtoken", "user_id", "accounts_user"),
    ("token_blacklist_blacklistedtoken", "token_id", "token_blacklist_outstandingtoken"),
    ("accounts_user_groups", "user_id", "accounts_user"),
    ("accounts_user_user_permissions", "user_id", "accounts_user"),
    ("django_admin_log", "user_id", "accounts_user"),
]


def recreate(on_delete: str) -> str:
    """SQL that re-creates each listed foreign key, under its own name, with `on_delete`."""
    statements = []
    for table, column, referenced in FOREIGN_KEYS:
        statements.append(
            f"""
            DO $$
            DECLARE constraint_name text;
            BEGIN
                SELECT c.conname INTO STRICT constraint_name
                FROM pg_constraint c
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                WHERE c.contype = 'f' AND c.conrelid = '{table}'::regclass
                    AND c.confrelid = '{referenced}'::regclass AND a.attname = '{column}';
                EXECUTE format('ALTER TABLE {table} DROP CONSTRAINT %I', constraint_name);
                EXECUTE format(
                    'ALTER TABLE {table} ADD CONSTRAINT %I FOREIGN KEY ({column}) REFERENCES {referenced} (id)'
                    ' {on_delete} DEFERRABLE INITIALLY DEFERRED',
                    constraint_name
                );
            END $$;
            """  # noqa: S608 (only the constant names of FOREIGN_KEYS)
        )
    return "".join(statements)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
    ]

    operations = [
        migrations.RunSQL(recreate("ON DELETE CASCADE"), recreate("ON DELETE NO ACTION")),
    ]
