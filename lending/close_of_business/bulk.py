"""Writing many rows' new values in one statement per chunk.

PostgreSQL gets ``UPDATE … FROM unnest(…)``, one statement for the whole batch; other databases
(SQLite for `make run`) fall back to Django's bulk_update. Values are computed by the caller.
"""

import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, ForeignObject, Lookup, signals
from django.db.models.base import ModelState


@ForeignObject.register_lookup  # related fields have lookups of their own
@Field.register_lookup
class InArray(Lookup):
    """`field__in_array=values`: `IN` for a batch's thousands of ids. On PostgreSQL one array
    parameter (`= ANY(%s)`) where Django's `__in` prepares, compiles and binds a placeholder
    per value (a batch of payments spent more on that than on reading its loans); elsewhere an
    ordinary IN list. The values must already be of the field's type (ids, references)."""

    lookup_name = "in_array"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]

    def as_postgresql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        element = _element_type(self.lhs.output_field)
        values = self.rhs
        if element in _NUMBERS and set(map(type, values)) <= {int}:
            values = numbers_literal(values)  # see _NUMBERS: one string, not a list of ints
        elif set(map(type, values)) <= {str} and all(values):
            # Strings (a file's loan references) as one text that PostgreSQL splits: Django's
            # cursor would quote every element in Python. Not when one holds the separator.
            joined = _SEPARATOR.join(values)
            if joined.count(_SEPARATOR) == len(values) - 1:
                return (
                    f"{lhs} = ANY(string_to_array(%s, %s)::{element}[])",
                    [*lhs_params, joined, _SEPARATOR],
                )
        return f"{lhs} = ANY(%s::{element}[])", [*lhs_params, values]


_SEPARATOR = "\x1f"  # the unit separator, which no reference or key holds


def array_cursor():
    """A cursor for the one-array-per-column statements below, binding its parameters on the
    server (the extended protocol) instead of as SQL text: Django's cursor quotes every element
    of every array in Python, which cost a batch of payments more than the rows it wrote.
    Never prepared (a pooler in transaction mode may hand the next statement to another
    server connection); wrapped as Django wraps its own, so query logging and
    execute_wrapper see the statements."""
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_array_cursor_class()(connection.connection))


@cache
def _array_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor  # needs psycopg

    class ArrayCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=False, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)

    return ArrayCursor


def bulk_set(model, rows: list[tuple], fields: list[str], batch_size: int = 5000) -> None:
    """Set `fields` on the rows of `model`: each row is (pk, value for each field)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = []
        for row in rows:
            obj = model(pk=row[0])
            for name, value in zip(fields, row[1:], strict=True):
                setattr(obj, name, value)
            objects.append(obj)
        model.objects.bulk_update(objects, fields, batch_size=1000)
        return
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        _set_columns(model, [list(column) for column in zip(*batch, strict=True)], fields)


def _set_columns(model, columns: list[list], fields: list[str]) -> None:
    """PostgreSQL's bulk_set, given the values column by column: the ids, then each field's."""
    table = model._meta.db_table
    targets = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f'"{field.column}" = v."{field.column}"' for field in targets)
    names = ", ".join(["id", *(f'"{field.column}"' for field in targets)])
    # One array per column: a statement of a few placeholders, whose text psycopg parses once
    # and caches, and PostgreSQL plans as cheaply for 5,000 rows as for 5. The element type is
    # the column's without its modifiers (numeric, not numeric(14, 2)), as Django's own UNNEST
    # insert does; the column's type still checks every value on assignment.
    arrays = ", ".join(["%t::bigint[]", *(_array(field) for field in targets)])
    packs = [numbers_literal, *(_pack(field) for field in targets)]
    with array_cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" AS t SET {assignments} FROM unnest({arrays}) '
            f"AS v({names}) WHERE t.id = v.id",
            [pack(values) for pack, values in zip(packs, columns, strict=True)],
        )


# A column of numbers goes as one array literal, '{1.50,NULL,7}': str() of a Decimal or an
# int is exact and runs in C, where psycopg dumps a list element by element in Python
# (20,000 values: decimals 33 ms as a list, 4 ms as a literal; integers 13 ms as a binary list,
# 4 ms). Dates, moments and strings go as binary lists (their text costs more, or needs quoting).
_NUMBERS = {"numeric", "bigint", "integer", "smallint"}


def _array(column) -> str:
    """The placeholder of a column's array (see _NUMBERS)."""
    element = _element_type(column)
    return f"{'%t' if element in _NUMBERS else '%b'}::{element}[]"


def _pack(column):
    """What turns a column's values into its array parameter."""
    return numbers_literal if _element_type(column) in _NUMBERS else list


def numbers_literal(values) -> str:
    """PostgreSQL's text form of an array of Decimals and ints (None as NULL)."""
    if None in values:
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def _element_type(column) -> str:
    if getattr(column, "model", None) is None:  # an expression's field: one of many, not kept
        return column.db_type(connection).split("(")[0]
    return _model_element_type(column, connection.vendor)


@cache  # asked for every column of every statement; a model field's type never changes
def _model_element_type(column, vendor: str) -> str:
    return column.db_type(connection).split("(")[0]


def bulk_save(objects: list, fields: list[str], batch_size: int = 5000) -> None:
    """bulk_set for model instances that already hold their new values. Django's bulk_update
    builds a CASE WHEN per row and field, which costs more Python than the postings it
    writes (a 500-payment batch of repayments spent most of its time there)."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objects, fields, batch_size=1000)
        return
    pks = list(map(attrgetter("pk"), objects))
    for start in range(0, len(objects), batch_size):
        batch = objects[start : start + batch_size]
        columns = [column_values(batch, model._meta.get_field(name)) for name in fields]
        _set_columns(model, [pks[start : start + batch_size], *columns], fields)


def bulk_insert(objects: list) -> None:
    """bulk_create for new instances of one model, their ids set, on PostgreSQL in one
    ``INSERT … SELECT FROM unnest(…)`` (Django's own strategy there) with the values taken as
    bulk_save takes them: Django's per-field preparation cost a batch of payments more than the
    rows it inserted. Its other work is kept: auto_now stamps, and a foreign key to an instance
    saved after it was assigned (a line to its transaction) points at that instance's id.
    Instances numbered by take_ids are inserted with their ids."""
    if not objects:
        return
    model = type(objects[0])
    numbered = objects[0].pk is not None  # ids taken beforehand (take_ids)
    fields = [f for f in model._meta.concrete_fields if numbered or not f.primary_key]
    if connection.vendor != "postgresql" or any(f.has_db_default() for f in fields):
        model.objects.bulk_create(objects)
        return
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objects:
                field.pre_save(obj, True)
        elif field.is_relation:
            for obj in objects:
                if getattr(obj, field.attname) is None and field.is_cached(obj):
                    related = field.get_cached_value(obj)
                    setattr(obj, field.attname, related.pk if related is not None else None)
    values = [_pack(field)(column_values(objects, field)) for field in fields]
    names = ", ".join(f'"{field.column}"' for field in fields)
    arrays = ", ".join(_array(field) for field in fields)
    insert = f'INSERT INTO "{model._meta.db_table}" ({names}) SELECT * FROM unnest({arrays})'
    with array_cursor() as cursor:
        if numbered:
            cursor.execute(insert, values)
        else:
            cursor.execute(f'{insert} RETURNING "{model._meta.pk.column}"', values)
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
    alias = connection.alias
    for obj in objects:
        obj._state.adding, obj._state.db = False, alias


@contextmanager
def pipelined():
    """Statements sent inside go without waiting for one another (psycopg's pipeline mode):
    PostgreSQL runs each while Python builds the next, and the block waits once, at its end,
    where an error of any of them is raised (as Django raises it). For statements whose
    results nobody reads — bulk_save, bulk_insert of numbered instances (take_ids) — but for
    the last: a fetch (an insert setting ids it takes back) waits for everything sent before
    it. Elsewhere than PostgreSQL, plain."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def take_ids(*groups: list) -> bool:
    """Number new instances from their model's id sequence before they are inserted, each
    list (of one model) in its order, all lists in one statement: rows that point at one
    another (a payoff's companion at its payment) are then inserted already linked, in one
    statement, instead of inserted and updated, and inserts that return nothing can be sent
    without waiting (pipelined). PostgreSQL only; elsewhere False, the instances untouched."""
    groups = tuple(group for group in groups if group)
    if not groups or connection.vendor != "postgresql":
        return False
    selects, params = [], []
    for n, group in enumerate(groups):
        meta = type(group[0])._meta
        # The sequence looked up once (a subquery), not for every id: its name is text, which
        # nextval() would look up row by row (five times the statement's time).
        selects.append(
            "SELECT %s AS g, nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass)) AS id "
            "FROM generate_series(1, %s)"
        )
        params += [n, f'"{meta.db_table}"', meta.pk.column, len(group)]
    with array_cursor() as cursor:
        cursor.execute(f"{' UNION ALL '.join(selects)} ORDER BY g, id", params)
        ids = cursor.fetchall()
    objects = [obj for group in groups for obj in group]
    for obj, (_group, pk) in zip(objects, ids, strict=True):
        obj.pk = pk
    return True


# A value already of its column's Python type goes to the database as it is: Django's
# get_db_prep_save validates and converts it again, field by field (for a DecimalField, twice),
# which a batch of payments paid for some sixty times a row. Anything else takes Django's way.
_AS_IS = {
    "DecimalField": Decimal,
    "DateField": date,
    "BooleanField": bool,
    "CharField": str,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "ForeignKey": int,
    "AutoField": int,
    "BigAutoField": int,
}


def column_values(objects: list, field) -> list:
    """The field's value on each object, as the database takes it (see _AS_IS): read and
    checked a column at a time, in C (attrgetter, type), and converted one by one only when
    some value is not already of the column's type."""
    values = list(map(attrgetter(field.attname), objects))
    if not set(map(type, values)) <= _ready_types(field):
        prep = _prep_for(field)
        values = [prep(value) for value in values]
    return values


@cache
def _ready_types(field) -> frozenset:
    exact = _AS_IS.get(field.get_internal_type())
    return frozenset({type(None), exact}) if exact is not None else frozenset()


def _prep_for(column):
    kind = column.get_internal_type()
    if kind == "DateTimeField" and settings.USE_TZ:
        return _prep_moment(column)
    exact = _AS_IS.get(kind)

    def prep(value):
        if value is None or type(value) is exact:
            return value
        return column.get_db_prep_save(value, connection)

    return prep


def _prep_moment(column):
    """A moment that already knows its time zone goes as it is (a posting's and an audit
    event's stamps); a naive one takes Django's way, and its warning."""

    def prep(value):
        if value is None or (type(value) is datetime and value.utcoffset() is not None):
            return value
        return column.get_db_prep_save(value, connection)

    return prep


def fetch_instances(queryset) -> list:
    """The queryset's rows as model instances, built from values_list without
    Model.__init__: a batch reading thousands of rows to compute on and write back
    (bulk_save) spent more time constructing them than the database did reading. Every
    concrete field is loaded but those the queryset defers (read on first use, as the ORM
    does), and its annotations are set as attributes, as the ORM sets them. The values are
    the ones the ORM would set (values_list converts them alike); a model with init signal
    receivers is built the ordinary way, as they expect to run."""
    model = queryset.model
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return list(queryset)
    deferred, defer = queryset.query.deferred_loading
    if deferred and not defer:
        raise ValueError("fetch_instances takes defer(), not only()")
    names = [
        *(f.attname for f in model._meta.concrete_fields if f.name not in deferred),
        *queryset.query.annotation_select,
    ]
    alias = queryset.db
    new = model.__new__
    instances = []
    for row in queryset.values_list(*names):
        instance = new(model)
        attributes = instance.__dict__
        attributes.update(zip(names, row, strict=True))
        state = attributes["_state"] = LoadedState()
        if alias != DEFAULT_DB_ALIAS:
            state.db = alias
        instances.append(instance)
    return instances


class LoadedState(ModelState):
    """The state of an instance read from the database, as class attributes: no attribute
    set per instance (a batch builds hundreds of thousands); another alias than the default
    is set on the instance's state."""

    adding = False
    db = DEFAULT_DB_ALIAS


def new_instance(model, **values):
    """`model(**values)` — a new, unsaved instance — without Model.__init__'s walk through
    its descriptors: every posting builds its transaction, lines and audit event this way, and
    a batch of payments spent more building them than PostgreSQL did inserting them. Each
    field takes its value by name (a related instance, linked and cached as the ORM links it)
    or by attname, else its default; anything else is refused as the constructor refuses it.
    A model with init signal receivers, or a related instance of another model, takes the
    ordinary way."""
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return model(**values)
    instance = model.__new__(model)
    state = instance._state = ModelState()
    attributes = instance.__dict__
    for field, name, attname, related in _construction_plan(model):
        if name in values:
            value = values.pop(name)
            if related is None:
                attributes[attname] = value
            elif value is None or type(value) is related:
                attributes[attname] = None if value is None else value.pk
                state.fields_cache[name] = value
                if value is not None and state.db is None:
                    state.db = value._state.db
            else:  # a subclass, a wrong model, a one-to-one: the descriptor decides
                attributes[attname] = None
                setattr(instance, name, value)
        elif attname in values:
            attributes[attname] = values.pop(attname)
        else:
            attributes[attname] = field.get_default()
    if values:
        unexpected = ", ".join(repr(name) for name in values)
        raise TypeError(f"{model.__name__}() got unexpected keyword arguments: {unexpected}")
    return instance


@cache
def _construction_plan(model) -> list[tuple]:
    """Each concrete field with its name, attname and, for a many-to-one link to its target's
    primary key, the target model (built fast); None for a plain field; the field itself for
    any other link (set through its descriptor)."""
    plan = []
    for field in model._meta.concrete_fields:
        related = None
        if field.is_relation:
            to_pk = field.many_to_one and field.target_field.primary_key
            related = field.remote_field.model if to_pk else field
        plan.append((field, field.name, field.attname, related))
    return plan


class WriteBehind:
    """`write()` run in a thread of its own on this thread's database connection — so in its
    transaction — while this thread goes on without the database until `join()`: PostgreSQL
    writes one chunk of a batch while Python works out the next (psycopg waits for the server
    without holding the GIL). The connection is shared, never used by both at once: a
    statement from this thread before `join()` is refused, loudly. join() re-raises what the
    write raised (an IntegrityError reaches the caller's atomic block as if written here)."""

    def __init__(self, write: Callable[[], None]):
        self.db = connections[DEFAULT_DB_ALIAS]
        self.owner = threading.get_ident()
        self.error: BaseException | None = None
        self.db.inc_thread_sharing()
        self.db.execute_wrappers.append(self._refuse_the_owner)
        self.thread = threading.Thread(target=self._run, args=(write,), name="write-behind")
        self.thread.start()

    def _run(self, write) -> None:
        connections[self.db.alias] = self.db  # this thread's ORM: the same connection
        try:
            write()
        except BaseException as exc:  # handed to join(), in the owner's thread
            self.error = exc
        finally:
            del connections[self.db.alias]

    def _refuse_the_owner(self, execute, sql, params, many, context):
        if threading.get_ident() == self.owner:
            raise RuntimeError("the connection is writing behind: join() before using it")
        return execute(sql, params, many, context)

    def join(self) -> None:
        self.thread.join()
        self.db.execute_wrappers.remove(self._refuse_the_owner)
        self.db.dec_thread_sharing()
        if self.error is not None:
            raise self.error
