import os

from django.core.wsgi import get_wsgi_application

from config.postgresql.base import bound_requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A request's waits on the database are bounded; management commands' are not.
bound_requests()

application = get_wsgi_application()
