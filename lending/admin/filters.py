"""List filters on a plain column whose values are known without reading the column.

Django's default filter for a column without choices (`AllValuesFieldListFilter`) offers the
values found in it: a `SELECT DISTINCT` over the whole list's table on every load of the list,
at a million loans the largest part of the page. The values of a bucket, a grade or a language
are a short list kept elsewhere; these filters offer that list, with the same parameter names
(`?bucket=M1`), so links and bookmarks keep working."""

from collections.abc import Iterable

from django.contrib import admin
from django.contrib.admin.utils import get_last_value_from_parameters

from lending.services.delinquency import bucket_table


class KnownValuesFilter(admin.AllValuesFieldListFilter):
    """`AllValuesFieldListFilter` offering `values()` instead of the column's distinct values.

    Use as `list_filter = (("bucket", BucketFilter),)`."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        # AllValuesFieldListFilter.__init__ without its DISTINCT query.
        self.lookup_kwarg = field_path
        self.lookup_kwarg_isnull = f"{field_path}__isnull"
        self.lookup_val = params.get(self.lookup_kwarg)
        self.lookup_val_isnull = get_last_value_from_parameters(params, self.lookup_kwarg_isnull)
        self.empty_value_display = model_admin.get_empty_value_display()
        self.lookup_choices = list(self.values())
        admin.FieldListFilter.__init__(self, field, request, params, model, model_admin, field_path)

    def values(self) -> Iterable[str]:
        raise NotImplementedError


class BucketFilter(KnownValuesFilter):
    """The delinquency buckets as configured (a table of a few rows), M0 first."""

    def values(self):
        return [bucket.code for bucket in bucket_table(checked=False)]
