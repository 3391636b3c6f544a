from django.apps import AppConfig


class CourseImportConfig(AppConfig):
    """``manage.py import_course_db``: the original course API's users, posts and votes, brought
    into this backend's tables. It has no models of its own; it writes the accounts, posts and
    votes apps' tables, so it lives beside them rather than inside one of them."""

    name = "course_import"
    verbose_name = "Import from the original course API"
