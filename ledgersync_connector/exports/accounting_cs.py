"""The Accounting CS bank-transaction file: its columns, its values, its name.

One CSV per client, bank account and date range, UTF-8 with a BOM (which Accounting CS
and Excel need to read UTF-8), written by the ``csv`` module and streamed in chunks, so
that 100k lines take no more memory than a few hundred. Pure Python: the model hands in
plain ``ExportLine`` tuples, in the order they go out.
"""

import csv
import functools
import io
import re
import unicodedata
from datetime import date
from decimal import Decimal
from typing import NamedTuple

COLUMNS = (
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
)
BOM = "\ufeff"
# Text a spreadsheet would run as a formula (and the control characters that can hide
# one): such a cell gets a leading apostrophe, which Excel shows as plain text.
FORMULA_STARTS = frozenset("=+-@\t\r\n")
# Lines written before a chunk leaves the writer.
CHUNK_LINES = 2000
# Longest file name kept, in characters (every file system allows 255 bytes; the name is
# ASCII once sanitised).
MAX_NAME_LENGTH = 200


class ExportLine(NamedTuple):
    date: date
    description: str
    vendor_name: str
    vendor_code: str
    gl_code: str
    amount: Decimal  # negative: money out of the account (or a float with 2 decimals)
    reference: str  # the check number, when there is one
    memo: str
    account_number: str


def neutralize(text):
    """``text`` as a cell: never read as a formula by a spreadsheet."""
    if not text:
        return ""
    return "'" + text if text[0] in FORMULA_STARTS else text


def money(value):
    """A positive amount with two decimals ("1234.50")."""
    if isinstance(value, float):  # Odoo reads numeric columns as floats, already rounded
        return f"{abs(value):.2f}"
    return f"{abs(Decimal(value)).quantize(Decimal('0.01'))}"


@functools.lru_cache(maxsize=4096)
def us_date(day):
    """MM/DD/YYYY (a cache: the lines of a file share a few hundred dates)."""
    return day.strftime("%m/%d/%Y")


def row(line):
    """The 11 cells of ``line``, in COLUMNS order: money out is a debit (a Check when it
    has a check number, otherwise a Payment), money in a credit (a Deposit)."""
    money_out = line.amount < 0
    if money_out:
        kind = "Check" if line.reference else "Payment"
    else:
        kind = "Deposit"
    return [
        us_date(line.date),
        neutralize(line.description),
        neutralize(line.vendor_name),
        neutralize(line.vendor_code),
        neutralize(line.gl_code),
        money(line.amount) if money_out else "",
        "" if money_out else money(line.amount),
        neutralize(line.reference),
        neutralize(line.memo),
        kind,
        neutralize(line.account_number),
    ]


def stream(lines, chunk_lines=CHUNK_LINES):
    """The file, as UTF-8 byte chunks: the BOM and the header first, then the lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180, as Excel writes it
    buffer.write(BOM)
    writer.writerow(COLUMNS)
    for count, line in enumerate(lines, 1):
        writer.writerow(row(line))
        if count % chunk_lines == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _name_part(text):
    """``text`` fit for a file name on every system: ASCII letters, digits, dashes and
    dots, accents dropped, anything else a dash."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9.-]+", "-", ascii_text)
    return re.sub(r"-{2,}", "-", cleaned).strip("-.")


def file_name(client, bank, start, end):
    """``ClientName_BankName_StartDate_EndDate.csv``, safe on Windows, macOS and Linux
    (the dates at the end keep it clear of Windows' reserved names, such as CON)."""
    parts = [_name_part(client) or "Client", _name_part(bank) or "Bank"]
    stem = "_".join(parts)[: MAX_NAME_LENGTH - 26]  # room for "_YYYY-MM-DD_YYYY-MM-DD.csv"
    return f"{stem.rstrip('-._')}_{start.isoformat()}_{end.isoformat()}.csv"
