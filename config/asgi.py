import os

from django.core.asgi import get_asgi_application

from config.startup import APP_LOAD_ERROR, settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
with settings_or_exit(APP_LOAD_ERROR):
    application = get_asgi_application()
