"""The "Moderators" group works the comments' queue too: it may view it and every comment, and
its actions need the same ``moderation.moderate`` permission the group already has."""

from django.db import migrations

GROUP = "Moderators"
# (app label, model, codename, name)
PERMISSIONS = [
    ("moderation", "reportedcomment", "view_reportedcomment", "Can view reported comment"),
    ("comments", "comment", "view_comment", "Can view comment"),
]


def add_permissions(apps, schema_editor):
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


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(
            *group.permissions.filter(codename__in=[codename for _, _, codename, _ in PERMISSIONS])
        )


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0004_comment_reports"),
        ("moderation", "0002_moderators_group"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
