import os

from django.core.asgi import get_asgi_application

from config.postgresql.base import bound_requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A request's waits on the database are bounded; management commands' are not.
bound_requests()

application = get_asgi_application()
