"""Start-up: a missing or bad setting ends the process with one line, not a traceback.

`config/settings.py` raises ImproperlyConfigured for what the operator must set (SECRET_KEY and
the PII keys with DEBUG off, …); its message already says what to do. manage.py, the WSGI/ASGI
applications and the Celery app print it as `error: <message>` on stderr and exit.
"""

import contextlib
import sys

from django.core.exceptions import ImproperlyConfigured

# gunicorn stops (instead of restarting the worker for ever) when a worker exits with its
# APP_LOAD_ERROR code, 4.
APP_LOAD_ERROR = 4


@contextlib.contextmanager
def settings_or_exit(code: int = 1, *, traceback: bool = False):
    """Run the block; on ImproperlyConfigured print one line and exit with `code` (or re-raise
    when `traceback` asks for the full story)."""
    try:
        yield
    except ImproperlyConfigured as exc:
        if traceback:
            raise
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(code) from None
