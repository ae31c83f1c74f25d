"""Django's SQLite backend, reading back every amount the columns accept (the `make run` demo).

SQLite keeps a decimal column as a REAL of 15 significant digits, so 9,999,999,999,999,999.99
comes back as 1e16. Django then rounds it to the column's places in a context of the column's
`max_digits` (18), which a 19-digit 10000000000000000.00 does not fit: `decimal.InvalidOperation`
and HTTP 500 on any page showing the row. Here that rounding retries in a context wide enough for
the value, so the page shows what SQLite kept. PostgreSQL's numeric is exact and needs none of it.
"""

import decimal

from django.db.backends.sqlite3 import base, operations

# Room for any REAL SQLite returns (at most about 1.8e308) rounded to a few places.
_WIDE = decimal.Context(prec=400)


class DatabaseOperations(operations.DatabaseOperations):
    def get_decimalfield_converter(self, expression):
        convert = super().get_decimalfield_converter(expression)
        places = getattr(getattr(expression, "output_field", None), "decimal_places", None)
        exact = decimal.Context(prec=15).create_decimal_from_float

        def converter(value, expression, connection):
            try:
                return convert(value, expression, connection)
            except decimal.InvalidOperation:
                number = exact(value) if isinstance(value, float) else decimal.Decimal(value)
                if places is None:
                    return number
                return number.quantize(decimal.Decimal(1).scaleb(-places), context=_WIDE)

        return converter


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
