"""The reading layer on the files operations teams really send: no database."""

import csv
import io
import re
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from imports.reading import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    ColumnSpec,
    FileRefused,
    header_key,
    read_table,
)

COLUMNS = [
    ColumnSpec("national_id", ("身份证号", "National ID"), required=True),
    ColumnSpec("amount", ("还款金额",), required=True),
    ColumnSpec("value_date", ("还款日期",), required=True),
    ColumnSpec("channel", ("渠道",)),
]
ROWS = [
    ["110101199003070015", "1,234.50", "2024-10-28", "bank"],
    ["110101199003070023", "￥2,000", "2024年10月28日", "alipay"],
]


def csv_bytes(rows, encoding="utf-8", delimiter=","):
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, *, sheets=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "data"
    for row in rows:
        sheet.append(row)
    for title, extra in (sheets or {}).items():
        other = book.create_sheet(title)
        for row in extra:
            other.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def values(table):
    return [cells for _, cells in table.rows]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_csv_in_every_encoding_excel_and_wps_write_reads_the_same(encoding):
    table = read_table(
        csv_bytes([["身份证号", "还款金额", "还款日期", "渠道"], *ROWS], encoding), COLUMNS
    )
    assert table.headers == ["身份证号", "还款金额", "还款日期", "渠道"]
    assert values(table) == ROWS
    assert [n for n, _ in table.rows] == [2, 3]  # the header is row 1


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_the_delimiter_is_found(delimiter):
    table = read_table(
        csv_bytes([["national_id", "amount", "value_date"], ROWS[0][:3]], delimiter=delimiter),
        COLUMNS,
    )
    assert values(table) == [ROWS[0][:3]]


def test_headers_in_any_order_language_mix_stray_and_full_width_spaces():
    header = ["  还款日期 ", "ＮＡＴＩＯＮＡＬ＿ＩＤ", "amount\u3000", "unrelated"]
    table = read_table(csv_bytes([header, ["2024-10-28", "110101199003070015", "5", "x"]]), COLUMNS)
    assert table.columns == {"value_date": 0, "national_id": 1, "amount": 2}
    assert table.header_of("national_id") == "ＮＡＴＩＯＮＡＬ＿ＩＤ"  # as the file names it
    assert header_key("National ID") == header_key("national_id")
    assert header_key(" 身份证号：") == header_key("身份证号")


def test_a_bank_s_title_rows_above_the_header_and_blank_rows_are_skipped():
    rows = [
        ["XX银行 账户交易明细"],
        ["账号: 6222 **** 1234", "", "导出日期: 2024-11-01"],
        [],
        ["身份证号", "还款金额", "还款日期"],
        ROWS[0][:3],
        ["", "  ", ""],
        [],
        ROWS[1][:3],
    ]
    for data in (csv_bytes(rows), xlsx_bytes(rows)):
        table = read_table(data, COLUMNS)
        assert table.header_row == 4
        assert [n for n, _ in table.rows] == [5, 8]


def test_xlsx_formulas_are_read_as_the_values_excel_computed():
    data = xlsx_bytes(
        [["身份证号", "还款金额", "还款日期"], ["110101199003070015", 1234.5, date(2024, 10, 28)]]
    )

    # openpyxl cannot compute, so write the formula with its cached value the way Excel saves it.
    def formula(xml):
        xml, n = re.subn(r'(<c r="B2"[^>]*>)(<v>1234.5</v>)', r"\1<f>1000+234.5</f>\2", xml)
        assert n == 1
        return xml

    table = read_table(patched(data, "xl/worksheets/sheet1.xml", formula), COLUMNS)
    assert values(table) == [["110101199003070015", 1234.5, datetime(2024, 10, 28)]]


def test_a_help_sheet_first_is_passed_over_for_the_sheet_with_the_header():
    data = xlsx_bytes(
        [["这是说明"]], sheets={"明细": [["身份证号", "还款金额", "还款日期"], ROWS[0][:3]]}
    )
    table = read_table(data, COLUMNS)
    assert table.sheet == "明细"


def refused(data) -> str:
    with pytest.raises(FileRefused) as caught:
        read_table(data, COLUMNS)
    return str(caught.value)


def test_a_file_whose_header_cannot_be_matched_is_refused_listing_the_columns():
    message = refused(csv_bytes([["name", "phone"], ["张三", "13800000000"]]))
    assert "national_id (身份证号)" in message and "amount (还款金额)" in message
    assert "optional: channel (渠道)" in message


def test_a_near_header_says_what_it_lacks():
    message = refused(csv_bytes([["身份证号", "还款日期"], ["x", "y"]]))
    assert "row 1" in message and "lacks amount" in message


def test_a_column_named_twice_is_refused():
    assert "twice" in refused(csv_bytes([["身份证号", "national_id", "还款金额", "还款日期"]]))


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"\r\n\r\n  \r\n", "empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, ".xls"),
        (b"PK\x03\x04 not really a zip", "cannot be opened"),
        ("身份证号,还款金额".encode("big5", errors="ignore") + b"\x81\x30\xff\xff", ""),
    ],
)
def test_junk_is_refused_in_words(data, says):
    assert says in refused(data)


def test_a_10_mb_cell_is_refused():
    data = csv_bytes([["身份证号", "还款金额", "还款日期"], ["1", "2", "x" * 10_000_000]])
    assert "cannot be read" in refused(data) or "characters" in refused(data)
    medium = csv_bytes(
        [["身份证号", "还款金额", "还款日期"], ["1", "2", "x" * (MAX_CELL_CHARS + 1)]]
    )
    assert f"{MAX_CELL_CHARS:,}" in refused(medium)


def patched(data: bytes, name: str, edit) -> bytes:
    """The workbook with one of its XML parts edited (what openpyxl cannot write)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == name:
                content = edit(content.decode()).encode()
            zout.writestr(item, content)
    return out.getvalue()


def test_a_10_mb_cell_in_xlsx_is_refused():
    data = xlsx_bytes([["身份证号", "还款金额", "还款日期"], ["1", "2", "BIG"]])
    data = patched(data, "xl/worksheets/sheet1.xml", lambda x: x.replace("BIG", "x" * 10_000_000))
    assert "10,000,000 characters" in refused(data)


def test_a_thousand_columns_are_refused():
    header = ["身份证号", "还款金额", "还款日期"] + [f"c{i}" for i in range(997)]
    for data in (csv_bytes([header]), xlsx_bytes([header])):
        assert f"more than {MAX_COLUMNS} columns" in refused(data)


def test_too_many_rows_are_refused():
    data = csv_bytes([["身份证号", "还款金额", "还款日期"]] + [["1", "2", "3"]] * 11)
    with pytest.raises(FileRefused, match="more than 10 rows"):
        read_table(data, COLUMNS, max_rows=10)
