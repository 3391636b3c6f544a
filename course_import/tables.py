"""The tables the import writes: this backend's, named by its models, and the staging tables."""

from django.db import connection

from accounts.models import User
from posts.models import Post
from votes.models import Vote

TARGETS = {"users": User, "posts": Post, "votes": Vote}

# Temporary tables (dropped at commit) that hold the source's rows while they are checked.
STAGING = {
    "users": "course_users (id bigint, email text, password text, created_at timestamptz)",
    "posts": (
        "course_posts (id bigint, title text, content text, owner_id bigint, published boolean,"
        " created_at timestamptz)"
    ),
    "votes": "course_votes (user_id bigint, post_id bigint)",
}


def target_sql(template: str) -> str:
    """The template with this backend's table names (``Model._meta.db_table``, quoted) in
    ``{users}``, ``{posts}`` and ``{votes}``."""
    quote = connection.ops.quote_name
    return template.format(**{name: quote(model._meta.db_table) for name, model in TARGETS.items()})
