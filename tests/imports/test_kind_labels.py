"""An import is named by its kind's label in the reader's language (借款人, not "borrowers"): in
the list, its filter, the start page's recent imports; the URLs and the data keep the code."""

import pytest
from django.urls import reverse
from django.utils import translation

from imports.models import ImportRecord
from imports.registry import kind_label
from imports.services import import_file
from lending import roles
from tests.imports.helpers import csv_bytes

pytestmark = pytest.mark.django_db
ROWS = [["姓名", "身份证号", "手机号"], ["张三", "110101199003070000", "1380"]]


def test_a_kind_reads_as_its_label_and_an_unregistered_one_as_its_code():
    with translation.override("en"):
        assert kind_label("borrowers") == "Borrowers"
        assert kind_label("retired_kind") == "retired_kind"
    with translation.override("zh-hans"):
        assert kind_label("borrowers") == "借款人"
        record = ImportRecord(kind="borrowers", file_name="b.csv")
        assert record.kind_label == "借款人"


def test_the_imports_pages_name_the_kind_in_chinese(client, role_user):
    officer = role_user(roles.CREDIT_OFFICER)
    record, _result = import_file(
        kind="borrowers", file_name="b.csv", data=csv_bytes(ROWS), acting_user=officer, dry_run=True
    )
    assert str(record).startswith("Borrowers: b.csv (")
    client.force_login(officer)
    zh = {"accept-language": "zh-hans"}

    listed = client.get(reverse("admin:imports_importrecord_changelist"), headers=zh)
    html = listed.content.decode()
    assert 'class="field-kind_words">借款人<' in html
    assert '<a href="?kind=borrowers">借款人</a>' in html  # the filter keeps the code
    assert ">borrowers<" not in html

    start = client.get(reverse("admin:imports_importrecord_start"), headers=zh).content.decode()
    assert "借款人: b.csv (" in start and "borrowers: b.csv" not in start
