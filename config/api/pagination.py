"""Pagination: cursors on the large, growing lists (loans, transactions, borrowers), where
page numbers would skip or repeat rows as new ones arrive and OFFSET gets slow; page numbers
elsewhere."""

from django.core.exceptions import ValidationError
from django.db import DataError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination, PageNumberPagination


class CursorPage(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        # The cursor is the client's text: a forged position ("abc", 10**30) must not reach
        # the database as a 500, it is an invalid cursor.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, ValidationError, DataError):
            raise NotFound(self.invalid_cursor_message) from None


class NumberedPage(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
