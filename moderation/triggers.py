"""The database rule on ``Report``: a report deleted by any means leaves the queue's count.

A reporter's account deleted (a cascade), the admin, the user: each takes the report out of
``ReportedPost.open_reports`` in the same transaction. Reports are created and resolved only by
moderation/services.py, which keeps the count itself.

The SQL is installed by the migrations that import it (``moderation/migrations/0003_*``); a
change here ships in a new migration that runs ``INSTALL`` again. 0001 keeps the SQL it shipped.
"""

REPORT_DELETED = "report_deleted"

INSTALL = f"""
CREATE OR REPLACE FUNCTION moderation_report_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.resolved_at IS NULL THEN
        UPDATE moderation_reportedpost q
        SET open_reports = GREATEST(q.open_reports - 1, 0),
            first_reported_at = (
                SELECT min(r.created_at) FROM moderation_report r
                WHERE r.post_id = OLD.post_id AND r.resolved_at IS NULL
            )
        WHERE q.post_id = OLD.post_id;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS {REPORT_DELETED} ON moderation_report;
CREATE TRIGGER {REPORT_DELETED} AFTER DELETE ON moderation_report
    FOR EACH ROW EXECUTE FUNCTION moderation_report_deleted();
"""  # noqa: S608 (only this module's constants are interpolated)
