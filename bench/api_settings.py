"""Settings of the API benchmark's gunicorn (bench/api.py): production's, plus a ping view for
the ceiling and per-user throttle rates no run can reach, so the throttles still do their work
on every request (a cache read and write) but never refuse one. Nothing here is imported by the
product."""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

ROOT_URLCONF = "bench.api_urls"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"user": "1000000000/minute", "anon": "1000000000/minute"},
}
