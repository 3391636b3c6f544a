"""Checking the staged rows before anything is written: emails in this backend's form, emails
that differ only by case (skipped), and rows here that the source's ids or emails would clash with
(refused)."""

from django.db.backends.utils import CursorWrapper

from accounts.models import UserManager
from course_import.result import ImportResult
from course_import.source import ImportRefused
from course_import.tables import target_sql

# How many clashing rows a refusal names, per kind.
MAX_EXAMPLES = 5


def normalize_emails(cursor: CursorWrapper) -> None:
    """Give staged addresses the form signup and login use (UserManager.normalize_email) where
    SQL's lower(btrim(email)), applied from here on, would not: addresses with anything but
    printable ASCII (other whitespace, Unicode) or with an xn-- label."""
    cursor.execute(r"SELECT id, email FROM course_users WHERE email ~ '[^!-~]' OR email ~* 'xn--'")
    changed = [
        (normalized, user_id)
        for user_id, email in cursor.fetchall()
        if (normalized := UserManager.normalize_email(email)) != email
    ]
    cursor.executemany("UPDATE course_users SET email = %s WHERE id = %s", changed)


def skip_conflicts(cursor: CursorWrapper, result: ImportResult) -> None:
    """Emails that differ only by case: neither user is imported, nor what depends on them.
    Records them in ``result.conflicting_emails`` and the counts skipped per table."""
    cursor.execute(
        """
        CREATE TEMPORARY TABLE course_skipped_users ON COMMIT DROP AS
        SELECT id, email FROM (
            SELECT id, email, count(*) OVER (PARTITION BY lower(btrim(email))) AS same
            FROM course_users
        ) counted WHERE same > 1
        """
    )
    cursor.execute("SELECT id, email FROM course_skipped_users ORDER BY lower(btrim(email)), id")
    result.conflicting_emails = list(cursor.fetchall())
    cursor.execute("CREATE TEMPORARY TABLE course_skipped_posts (id bigint) ON COMMIT DROP")
    if not result.conflicting_emails:
        return
    cursor.execute("DELETE FROM course_users WHERE id IN (SELECT id FROM course_skipped_users)")
    result.users.conflicting = cursor.rowcount
    # Their posts, and every vote by them or on their posts, would break foreign keys here.
    cursor.execute(
        "WITH gone AS (DELETE FROM course_posts p USING course_skipped_users k"
        " WHERE p.owner_id = k.id RETURNING p.id) INSERT INTO course_skipped_posts SELECT id FROM gone"
    )
    result.posts.conflicting = cursor.rowcount
    cursor.execute(
        "DELETE FROM course_votes WHERE user_id IN (SELECT id FROM course_skipped_users)"
        " OR post_id IN (SELECT id FROM course_skipped_posts)"
    )
    result.votes.conflicting = cursor.rowcount


FOREIGN_ROWS = [
    (
        "SELECT s.id, t.email, s.email FROM course_users s JOIN {users} t ON t.id = s.id"
        " WHERE t.email <> lower(btrim(s.email)) LIMIT %s",
        "user {0} here is {1}, but in the source user {0} is {2}",
    ),
    (
        # Same id and address, another account: made here (e.g. signed up through the API).
        "SELECT s.id, t.email, t.date_joined, s.created_at FROM course_users s JOIN {users} t"
        " ON t.id = s.id WHERE t.email = lower(btrim(s.email)) AND t.date_joined <> s.created_at LIMIT %s",
        "user {0} ({1}) was created here at {2:%Y-%m-%d %H:%M:%S}, not imported from the source"
        " (where it joined at {3:%Y-%m-%d %H:%M:%S})",
    ),
    (
        "SELECT t.email, t.id, s.id FROM course_users s JOIN {users} t"
        " ON t.email = lower(btrim(s.email)) WHERE t.id <> s.id LIMIT %s",
        "{0} is user {1} here but user {2} in the source",
    ),
    (
        "SELECT s.id FROM course_posts s JOIN {posts} t ON t.id = s.id"
        " WHERE t.owner_id <> s.owner_id OR t.created_at <> s.created_at LIMIT %s",
        "post {0} here is not post {0} of the source",
    ),
]


def refuse_foreign_rows(cursor: CursorWrapper) -> None:
    """Raise ``ImportRefused`` when rows here share an id or an email with the source but are
    not the same rows (up to ``MAX_EXAMPLES`` of each kind named)."""
    # No ORDER BY in the queries: with the LIMIT it can lead the planner into a nested loop
    # over both tables.
    problems = []
    for query, message in FOREIGN_ROWS:
        cursor.execute(target_sql(query), [MAX_EXAMPLES])
        problems += [message.format(*row) for row in sorted(cursor.fetchall())]
    if problems:
        raise ImportRefused(
            "This database already holds users or posts that did not come from this source: "
            + "; ".join(problems)
            + ". Import into a freshly migrated, empty database."
        )
