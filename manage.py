#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    from config.startup import settings_or_exit

    # A missing or bad setting (SECRET_KEY, the PII keys, …): one line and exit code 1
    # (`--traceback` shows where it came from).
    with settings_or_exit(1, traceback="--traceback" in sys.argv):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
