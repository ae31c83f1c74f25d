"""Reading a spreadsheet upload into a header and rows. No Django import.

What real files bring, handled here by hand (django-import-export's formats read the first row
as the header and trust the file; they cannot do any of this):

* XLSX (openpyxl, read-only, `data_only`: a formula is read as the value Excel last computed)
  or CSV, told apart by the bytes, not the file name; an old binary .xls is refused by name;
* CSV in UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), or GB18030 (a
  superset of GBK and GB2312), detected by trying strict decodes in that order; the delimiter
  (comma, tab, semicolon, bar) by counting;
* blank rows skipped; the header row found among the first rows, below a bank's title rows;
  header cells in English or Chinese, any order, stray and full-width spaces and punctuation;
* limits, so binary junk, an empty file, a huge cell, thousands of columns or rows are refused
  with a sentence, never an exception: `FileRefused`.

Row numbers are the spreadsheet's (the header is row 1 in a file without title rows).
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from imports.problems import Problem, gettext_noop

MAX_FILE_BYTES = 30 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
HEADER_SCAN_ROWS = 30  # how far down a header is looked for (title rows above it)

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
DELIMITERS = ",\t;|"


class FileRefused(Problem):
    """The whole file is refused: nothing is read from it."""


@dataclass(frozen=True)
class ColumnSpec:
    """A column a kind reads: `key` (its English name) and every name a file may give it."""

    key: str
    names: tuple[str, ...]
    required: bool = False

    @property
    def zh(self) -> str:
        return next((n for n in self.names if not n.isascii()), "")


@dataclass
class Table:
    format: str  # "xlsx" or "csv"
    header_row: int  # the header's spreadsheet row number
    headers: list[str]  # every header cell as the file names it (trimmed)
    columns: dict[str, int]  # column key → position
    rows: list[tuple[int, list]] = field(default_factory=list)  # (row number, cells)
    sheet: str = ""
    encoding: str = ""
    delimiter: str = ","

    def header_of(self, key: str) -> str:
        """The column as the file names it."""
        return self.headers[self.columns[key]]


def header_key(text) -> str:
    """A header cell reduced to compare: full-width folded (NFKC), case, spaces, underscores,
    hyphens, a required-marker star and a trailing colon ignored. "National ID" = "national_id"
    = "ＮＡＴＩＯＮＡＬ＿ＩＤ"; " 身份证号 " = "身份证号："."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s_\-*:]+", "", text)


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _trim(cells: Iterable) -> list:
    cells = list(cells)
    while cells and is_blank(cells[-1]):
        cells.pop()
    return cells


def _check_cells(cells: list, row: int) -> None:
    if len(cells) > MAX_COLUMNS:
        raise FileRefused(
            gettext_noop("row %(row)s has more than %(max)s columns (at most %(max)s are allowed)"),
            row=row,
            max=MAX_COLUMNS,
        )
    for cell in cells:
        if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
            raise FileRefused(
                gettext_noop(
                    "row %(row)s has a cell of %(size)s characters; a cell holds at most %(max)s"
                ),
                row=row,
                size=f"{len(cell):,}",
                max=f"{MAX_CELL_CHARS:,}",
            )


def read_table(data: bytes, columns: Sequence[ColumnSpec], *, max_rows: int = MAX_ROWS) -> Table:
    """The file's header (matched to `columns`) and its non-blank rows below it, or
    FileRefused saying why not."""
    if not data:
        raise FileRefused(gettext_noop("the file is empty"))
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(
            gettext_noop("the file is %(size)s MB; at most %(max)s MB can be imported"),
            size=f"{len(data) / 1024 / 1024:.1f}",
            max=MAX_FILE_BYTES // 1024 // 1024,
        )
    if data.startswith(XLS_MAGIC):
        raise FileRefused(
            gettext_noop("this is an old Excel .xls file; save it as .xlsx or CSV and upload that")
        )
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, columns, max_rows)
    return _read_csv(data, columns, max_rows)


# -- CSV ---------------------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-16 with a BOM, UTF-8 (BOM or not), GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        if b"\x00" in data[:65536]:
            raise FileRefused(gettext_noop("this is not a CSV or XLSX file (it holds binary data)"))
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:65536]
        controls = sum(
            1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n"
        )
        if controls > max(2, len(sample) // 200):
            raise FileRefused(gettext_noop("this is not a CSV or XLSX file (it holds binary data)"))
        return text, "utf-8" if encoding == "utf-8-sig" else encoding
    raise FileRefused(
        gettext_noop(
            "the file is neither an XLSX workbook nor CSV text in UTF-8 or GB18030/GBK; "
            "save it as .xlsx or as CSV UTF-8"
        )
    )


def sniff_delimiter(text: str) -> str:
    sample = text[:16384]
    counts = {d: sample.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise FileRefused(
                gettext_noop(
                    "row %(row)s cannot be read as CSV (a cell too large, or a stray quote)"
                ),
                row=number,
            ) from None
        yield number, cells


def _read_csv(data: bytes, columns, max_rows) -> Table:
    text, encoding = decode_text(data)
    if not text.strip():
        raise FileRefused(gettext_noop("the file is empty"))
    delimiter = sniff_delimiter(text)
    table = _tabulate(_csv_rows(text, delimiter), columns, max_rows, fmt="csv")
    table.encoding, table.delimiter = encoding, delimiter
    return table


# -- XLSX --------------------------------------------------------------------------------------


def _xlsx_rows(sheet) -> Iterator[tuple[int, list]]:
    # Dimensions written by some tools are wrong (and would cut rows off): read them all.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS + 1, values_only=True)
    for number, cells in enumerate(rows, start=1):
        yield number, list(cells)


def _read_xlsx(data: bytes, columns, max_rows) -> Table:
    import openpyxl  # only XLSX uploads pay for the import

    unreadable = FileRefused(
        gettext_noop("the file looks like XLSX but cannot be opened; save it again from Excel")
    )
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or hostile workbook: any error means "cannot be opened"
        raise unreadable from None
    refusals = []
    try:
        for sheet in book.worksheets:
            try:
                table = _tabulate(_xlsx_rows(sheet), columns, max_rows, fmt="xlsx")
            except FileRefused as exc:
                refusals.append(exc)
                continue
            except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError):
                raise unreadable from None
            table.sheet = sheet.title
            return table
    finally:
        book.close()
    if not refusals:
        raise FileRefused(gettext_noop("the workbook has no sheet"))
    # The first sheet's reason (a help sheet after it would only say "no header").
    raise refusals[0]


# -- header and rows ---------------------------------------------------------------------------


def _alias_index(columns: Sequence[ColumnSpec]) -> dict[str, str]:
    index = {}
    for spec in columns:
        for name in (spec.key, *spec.names):
            index[header_key(name)] = spec.key
    return index


def expected_columns(columns: Sequence[ColumnSpec]) -> str | Problem:
    def name(spec):
        return f"{spec.key} ({spec.zh})" if spec.zh else spec.key

    required = ", ".join(name(s) for s in columns if s.required)
    optional = ", ".join(name(s) for s in columns if not s.required)
    if not optional:
        return required
    return Problem(
        gettext_noop("%(required)s; optional: %(optional)s"), required=required, optional=optional
    )


def match_header(cells: list, columns: Sequence[ColumnSpec]) -> tuple[dict[str, int], list[str]]:
    """The columns a row names ({key: position}) and the required keys it lacks. A column
    named twice is refused."""
    index = _alias_index(columns)
    found: dict[str, int] = {}
    for position, cell in enumerate(cells):
        if is_blank(cell):
            continue
        key = index.get(header_key(cell))
        if key is None:
            continue
        if key in found:
            raise FileRefused(
                gettext_noop("the header names column %(column)s twice (columns %(a)s and %(b)s)"),
                column=key,
                a=column_letter(found[key]),
                b=column_letter(position),
            )
        found[key] = position
    missing = [s.key for s in columns if s.required and s.key not in found]
    return found, missing


def column_letter(position: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _tabulate(rows: Iterator[tuple[int, list]], columns, max_rows: int, *, fmt: str) -> Table:
    table = None
    best: tuple[int, list[str]] | None = None  # the closest header candidate: (row, lacking)
    scanned = 0
    for number, raw in rows:
        cells = _trim(raw)
        _check_cells(cells, number)
        if not cells:
            continue
        if table is None:
            scanned += 1
            found, missing = match_header(cells, columns)
            if found and not missing:
                headers = ["" if is_blank(c) else " ".join(str(c).split()) for c in cells]
                table = Table(format=fmt, header_row=number, headers=headers, columns=found)
            elif found and (best is None or len(missing) < len(best[1])):
                best = (number, missing)
            if table is None and scanned >= HEADER_SCAN_ROWS:
                break
            continue
        if len(table.rows) >= max_rows:
            raise FileRefused(
                gettext_noop("the file has more than %(max)s rows; split it into smaller files"),
                max=f"{max_rows:,}",
            )
        width = len(table.headers)
        table.rows.append((number, cells[:width] + [None] * (width - len(cells[:width]))))
    if table is not None:
        return table
    if scanned == 0:
        raise FileRefused(gettext_noop("the file holds no rows"))
    if best is not None:
        raise FileRefused(
            gettext_noop(
                "no header row found: row %(row)s looks like one but lacks %(missing)s "
                "(expected columns: %(expected)s)"
            ),
            row=best[0],
            missing=", ".join(best[1]),
            expected=expected_columns(columns),
        )
    raise FileRefused(
        gettext_noop(
            "no header row found in the first %(rows)s rows; expected columns: %(expected)s"
        ),
        rows=HEADER_SCAN_ROWS,
        expected=expected_columns(columns),
    )
