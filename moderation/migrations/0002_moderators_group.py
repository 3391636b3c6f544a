"""The "Moderators" group: staff in it work the moderation queue without being superusers.

Its permissions are created here if they do not exist yet (Django creates them only after all
migrations have run); Django's own pass then finds them and adds no duplicates.
"""

from django.db import migrations

GROUP = "Moderators"
# (app label, model, codename, name)
PERMISSIONS = [
    ("moderation", "reportedpost", "view_reportedpost", "Can view reported post"),
    (
        "moderation",
        "reportedpost",
        "moderate",
        "Can hide, restore and dismiss reported posts, and deactivate authors",
    ),
    ("moderation", "moderationaction", "view_moderationaction", "Can view moderation action"),
    ("posts", "post", "view_post", "Can view post"),
]


def create_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, model, codename, name in PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        group.permissions.add(permission)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("posts", "0004_post_hidden"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
