import os

from django.core.wsgi import get_wsgi_application

from daisy.lib.runtime import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "daisy.settings")
application = get_wsgi_application()
freeze_startup_heap()
