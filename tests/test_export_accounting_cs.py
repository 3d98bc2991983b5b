"""The Accounting CS file, without Odoo: columns, values, escaping, names, streaming."""

import csv
import io
import tracemalloc
from datetime import date
from decimal import Decimal

import pytest

from ledgersync_connector.exports.accounting_cs import (
    COLUMNS,
    ExportLine,
    file_name,
    stream,
)


def line(**values):
    defaults = {
        "date": date(2026, 3, 7),
        "description": "SHELL OIL 5734",
        "vendor_name": "Shell",
        "vendor_code": "SHE01",
        "gl_code": "6400",
        "amount": Decimal("-42.1"),
        "reference": "",
        "memo": "tx_1",
        "account_number": "4321",
    }
    return ExportLine(**{**defaults, **values})


def read(lines):
    data = b"".join(stream(lines))
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_header_has_the_eleven_columns_in_order():
    assert read([])[0] == [
        "Date",
        "Description",
        "Vendor Name",
        "Vendor Code",
        "GL Code",
        "Debit Amount",
        "Credit Amount",
        "Reference Number",
        "Memo",
        "Transaction Type",
        "Account Number",
    ]
    assert tuple(read([])[0]) == COLUMNS


def test_money_out_is_a_debit_payment_or_check_money_in_a_credit_deposit():
    rows = read(
        [
            line(amount=Decimal("-42.1")),
            line(amount=Decimal("-1500"), reference="1042"),
            line(amount=Decimal("2500.005"), description="DEPOSIT"),
        ]
    )[1:]
    assert [(r[0], r[5], r[6], r[7], r[9]) for r in rows] == [
        ("03/07/2026", "42.10", "", "", "Payment"),
        ("03/07/2026", "1500.00", "", "1042", "Check"),
        ("03/07/2026", "", "2500.00", "", "Deposit"),
    ]
    assert rows[0][1:5] == ["SHELL OIL 5734", "Shell", "SHE01", "6400"]
    assert rows[0][8] == "tx_1" and rows[0][10] == "4321"


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('ACME "BEST" CO, INC', 'ACME "BEST" CO, INC'),
        ("two\nlines", "two\nlines"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-REFUND", "'-REFUND"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("Café Müller 東京", "Café Müller 東京"),
        ("", ""),
    ],
)
def test_text_is_escaped_and_formulas_neutralized(text, cell):
    rows = read([line(description=text, vendor_name=text, memo=text)])
    assert rows[1][1] == rows[1][2] == rows[1][8] == cell


def test_file_names_are_safe_everywhere():
    start, end = date(2026, 1, 1), date(2026, 1, 31)
    assert (
        file_name("Acme Corp", "Chase", start, end) == "Acme-Corp_Chase_2026-01-01_2026-01-31.csv"
    )
    assert (
        file_name('Dupont & Fils / "Lyon"', "Crédit Agricole: ••1234", start, end)
        == "Dupont-Fils-Lyon_Credit-Agricole-1234_2026-01-01_2026-01-31.csv"
    )
    assert file_name("../../etc/passwd", "C:\\bank", start, end).startswith("etc-passwd_C-bank_")
    assert file_name("東京", "", start, end) == "Client_Bank_2026-01-01_2026-01-31.csv"
    assert file_name("CON", "NUL", start, end) == "CON_NUL_2026-01-01_2026-01-31.csv"
    long_name = file_name("A" * 500, "B" * 500, start, end)
    assert len(long_name) <= 200 and long_name.endswith("_2026-01-01_2026-01-31.csv")


def test_the_file_streams_in_chunks_with_flat_memory():
    def lines(count):
        return (line(description=f"LINE {n}", memo=f"tx_{n}") for n in range(count))

    def peak(count):
        tracemalloc.start()
        size = sum(len(chunk) for chunk in stream(lines(count)))
        peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size, peak_bytes

    small_size, small_peak = peak(5_000)
    big_size, big_peak = peak(50_000)
    assert big_size > 9 * small_size
    assert big_peak < 2 * small_peak  # ten times the lines, about the same memory
    chunks = list(stream(lines(4_500), chunk_lines=2_000))
    assert len(chunks) == 3


@pytest.mark.parametrize(
    ("amount", "debit", "credit"),
    [
        (-42.1, "42.10", ""),  # Odoo reads numeric columns as floats
        (2500.0, "", "2500.00"),
        (Decimal("-0.005"), "0.00", ""),
        (Decimal("19.999"), "", "20.00"),
    ],
)
def test_amounts_have_two_decimals_whatever_their_type(amount, debit, credit):
    assert read([line(amount=amount)])[1][5:7] == [debit, credit]
