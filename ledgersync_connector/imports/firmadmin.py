"""The FIRMADMIN lists of Accounting CS: clients.csv and vendors.csv, read and planned.

``read_table`` turns an uploaded file into rows, or raises ``FileRejected`` with the
reason the whole file is refused (the import then changes nothing). ``plan_clients`` and
``plan_vendors`` say, row by row, what Confirm Import would do: create, update, match
(nothing to change), or reject with the reason. Pure Python; the wizard
(wizards/ledgersync_firmadmin_import.py) gives them what the database holds.

Messages are lazy translations (as in failures.py), formatted with ``%(name)s``.
"""

import csv
import io
import re
from typing import NamedTuple

if __name__.startswith("odoo.addons."):
    from odoo.tools.translate import LazyTranslate

    _lt = LazyTranslate(__name__)
else:

    def _lt(source):
        return source


MAX_FILE_BYTES = 10 * 1024 * 1024
CLIENT_COLUMNS = ("Client Name", "Client ID", "Client Code", "Status")
CLIENT_REQUIRED = ("Client Name", "Client Code")
VENDOR_COLUMNS = ("Vendor Code", "Vendor Name", "Default GL Code")
VENDOR_REQUIRED = ("Vendor Code", "Vendor Name")
OTHER_DELIMITERS = {";": _lt("semicolons"), "\t": _lt("tabs"), "|": _lt("vertical bars")}
# A row with bytes that are not UTF-8 holds these (decoded with "surrogateescape").
_UNDECODABLE = re.compile("[\udc80-\udcff]")

FILE_ERRORS = {
    "too_large": _lt("%(file)s is larger than 10 MB: split it, then upload the parts."),
    "empty": _lt("%(file)s is empty."),
    "encoding": _lt(
        "%(file)s is not UTF-8 text (it looks like Latin-1 or another legacy encoding): in "
        'Excel, save it again as "CSV UTF-8 (Comma delimited)".'
    ),
    "delimiter": _lt(
        "%(file)s separates its columns with %(delimiter)s: save it again as a CSV file with "
        "commas."
    ),
    "missing_columns": _lt(
        "%(file)s has no column %(columns)s. Its first line must name the columns: %(expected)s."
    ),
}
ROW_ERRORS = {
    "missing_value": _lt("%(column)s is empty."),
    "bad_encoding": _lt("This line is not UTF-8 text."),
    "duplicate_code": _lt("The code %(code)s is also on line %(line)s."),
    "unknown_gl_code": _lt("No GL account has the code %(code)s."),
    "unknown_client": _lt("No LedgerSync client has the code %(code)s or the name %(name)s."),
}


class FileRejected(ValueError):
    """The whole file is refused: ``code`` (a key of FILE_ERRORS) and its ``params``."""

    def __init__(self, code, **params):
        super().__init__(code)
        self.code = code
        self.params = params


class Row(NamedTuple):
    line: int  # the line number in the file (the header is line 1)
    values: dict  # column -> stripped text, for the known columns
    error: tuple = None  # (code of ROW_ERRORS, params) when the row cannot be read


class Table(NamedTuple):
    rows: list
    ignored_columns: list  # columns of the file the import does not use
    had_bom: bool


class Planned(NamedTuple):
    line: int
    key: str  # the code of the row
    name: str
    action: str  # "create", "update", "match" or "reject"
    target_id: int = None  # the existing record matched
    values: dict = None  # what Confirm Import writes (create/update)
    error: tuple = None  # (code of ROW_ERRORS, params) for "reject"


def _key(text):
    return " ".join((text or "").split()).casefold()


def read_table(data, file_label, columns, required):
    """The rows of one uploaded CSV file, or FileRejected."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRejected("too_large", file=file_label)
    had_bom = data.startswith(b"\xef\xbb\xbf")
    text = data[3:] if had_bom else data
    text = text.decode("utf-8", errors="surrogateescape")
    if not text.strip():
        raise FileRejected("empty", file=file_label)
    header_line = text.splitlines()[0]
    if _UNDECODABLE.search(header_line) or len(_UNDECODABLE.findall(text)) > len(text) // 50:
        raise FileRejected("encoding", file=file_label)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader)]
    by_key = {_key(name): index for index, name in enumerate(header)}
    missing = [name for name in required if _key(name) not in by_key]
    if missing:
        for delimiter, label in OTHER_DELIMITERS.items():
            if delimiter in header_line and len(header) == 1:
                raise FileRejected("delimiter", file=file_label, delimiter=label)
        raise FileRejected(
            "missing_columns",
            file=file_label,
            columns=", ".join(missing),
            expected=", ".join(columns),
        )
    known = {name: by_key[_key(name)] for name in columns if _key(name) in by_key}
    ignored = [name for name in header if name and _key(name) not in map(_key, columns)]
    rows = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            name: cells[index].strip() if index < len(cells) else ""
            for name, index in known.items()
        }
        error = None
        if any(_UNDECODABLE.search(cell) for cell in cells):
            error = ("bad_encoding", {})
        else:
            empty = [name for name in required if not values.get(name)]
            if empty:
                error = ("missing_value", {"column": empty[0]})
        rows.append(Row(line, values, error))
    return Table(rows, ignored, had_bom)


def _duplicates(rows, column):
    """Line of the first row of each code that is repeated: {line: first line}."""
    first_line, repeated = {}, {}
    for row in rows:
        code = _key(row.values.get(column))
        if row.error or not code:
            continue
        if code in first_line:
            repeated[row.line] = first_line[code]
        else:
            first_line[code] = row.line
    return repeated


def plan_clients(rows, clients):
    """What to do with each FIRMADMIN client row. ``clients``: the LedgerSync clients, as
    (id, code, name, accounting_cs_id) tuples. A LedgerSync client is matched by code,
    then by name; it gets the Accounting CS client ID. LedgerSync's own clients come from
    LedgerSync: an unknown one is rejected, never created."""
    by_code = {_key(code): client for client in clients if (code := client[1])}
    by_name = {_key(client[2]): client for client in clients}
    repeated = _duplicates(rows, "Client Code")
    plan = []
    for row in rows:
        code, name = row.values.get("Client Code", ""), row.values.get("Client Name", "")
        if row.error or row.line in repeated:
            error = row.error or ("duplicate_code", {"code": code, "line": repeated[row.line]})
            plan.append(Planned(row.line, code, name, "reject", error=error))
            continue
        client = by_code.get(_key(code)) or by_name.get(_key(name))
        if client is None:
            error = ("unknown_client", {"code": code, "name": name})
            plan.append(Planned(row.line, code, name, "reject", error=error))
            continue
        # The code and the name are LedgerSync's (the sync rewrites them): only the
        # Accounting CS client ID is the import's.
        values = {"accounting_cs_id": row.values.get("Client ID") or False}
        changed = values["accounting_cs_id"] != (client[3] or False)
        action = "update" if changed else "match"
        plan.append(Planned(row.line, code, name, action, client[0], values))
    return plan


def plan_vendors(rows, partners, account_ids_by_code):
    """What to do with each FIRMADMIN vendor row. ``partners``: (id, ref, name) tuples of
    the company's contacts; ``account_ids_by_code``: GL account id by code. A vendor is
    matched by reference, then by name; a new one is created. ``values`` holds the
    contact's values and, under "gl_account_id", the account of its default GL code."""
    by_ref = {_key(ref): partner for partner in partners if (ref := partner[1])}
    by_name = {_key(partner[2]): partner for partner in partners}
    repeated = _duplicates(rows, "Vendor Code")
    plan = []
    for row in rows:
        code, name = row.values.get("Vendor Code", ""), row.values.get("Vendor Name", "")
        gl_code = row.values.get("Default GL Code", "")
        error = row.error
        if not error and row.line in repeated:
            error = ("duplicate_code", {"code": code, "line": repeated[row.line]})
        if not error and gl_code and gl_code not in account_ids_by_code:
            error = ("unknown_gl_code", {"code": gl_code})
        if error:
            plan.append(Planned(row.line, code, name, "reject", error=error))
            continue
        gl_account_id = account_ids_by_code.get(gl_code) if gl_code else None
        partner = by_ref.get(_key(code)) or by_name.get(_key(name))
        if partner is None:
            values = {"ref": code, "name": name, "gl_account_id": gl_account_id}
            plan.append(Planned(row.line, code, name, "create", values=values))
            continue
        values = {}
        if (partner[1] or "") != code:
            values["ref"] = code
        if partner[2] != name and _key(partner[1]) == _key(code):
            values["name"] = name
        action = "update" if values else "match"
        values["gl_account_id"] = gl_account_id
        plan.append(Planned(row.line, code, name, action, partner[0], values))
    return plan
