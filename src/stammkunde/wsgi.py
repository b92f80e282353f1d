"""WSGI entry point (gunicorn stammkunde.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
application = get_wsgi_application()
