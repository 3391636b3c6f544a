"""The one moderation queue: a view over the reported posts (``ReportedPost``, kept by
moderation/services.py) and the reported comments (their reports, counted per comment), one row
per post or comment ever reported, read by the admin's queue (moderation/queue_admin.py)."""

from django.db import migrations, models

VIEW = """
CREATE VIEW moderation_queue_entry AS
SELECT 'post-' || queued.post_id AS id, 'post' AS kind, queued.post_id,
       NULL::bigint AS comment_id, NULL::bigint AS parent_id, post.owner_id AS author_id,
       queued.open_reports, queued.first_reported_at, post.hidden
  FROM moderation_reportedpost queued JOIN posts_post post ON post.id = queued.post_id
UNION ALL
SELECT 'comment-' || comment.id, 'comment', comment.post_id,
       comment.id, comment.parent_id, comment.owner_id,
       count(*) FILTER (WHERE report.resolved_at IS NULL),
       min(report.created_at) FILTER (WHERE report.resolved_at IS NULL), comment.hidden
  FROM comments_comment comment JOIN moderation_commentreport report ON report.comment_id = comment.id
 GROUP BY comment.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0005_moderators_comments"),
        ("posts", "0006_post_feed"),
        ("comments", "0002_thread_triggers"),
    ]

    operations = [
        migrations.CreateModel(
            name="QueueEntry",
            fields=[
                ("id", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=8)),
                ("open_reports", models.PositiveIntegerField()),
                ("first_reported_at", models.DateTimeField(null=True)),
                ("hidden", models.BooleanField()),
            ],
            options={
                "verbose_name": "moderation queue entry",
                "verbose_name_plural": "moderation queue entries",
                "db_table": "moderation_queue_entry",
                "managed": False,
            },
        ),
        migrations.RunSQL(VIEW, "DROP VIEW moderation_queue_entry"),
    ]
