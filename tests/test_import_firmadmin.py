"""The FIRMADMIN files, without Odoo: files refused as a whole, rows rejected with their
reason, and what Confirm Import would create, update or match."""

import pytest

from ledgersync_connector.imports.firmadmin import (
    CLIENT_COLUMNS,
    CLIENT_REQUIRED,
    FILE_ERRORS,
    MAX_FILE_BYTES,
    ROW_ERRORS,
    VENDOR_COLUMNS,
    VENDOR_REQUIRED,
    FileRejected,
    plan_clients,
    plan_vendors,
    read_table,
)

CLIENTS_CSV = (
    "Client Name,Client ID,Client Code,Status\r\n"
    "Acme Corp,1001,ACME,Active\r\n"
    '"Dupont, Fils",1002,DUP,Active\r\n'
    "Nobody Here,1003,NOPE,Active\r\n"
    "Acme Again,1004,ACME,Active\r\n"
    ",1005,EMPTY,Active\r\n"
)


def clients(data=None):
    data = CLIENTS_CSV.encode() if data is None else data
    return read_table(data, "clients.csv", CLIENT_COLUMNS, CLIENT_REQUIRED)


def vendors(text):
    return read_table(text.encode(), "vendors.csv", VENDOR_COLUMNS, VENDOR_REQUIRED)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf \r\n", "empty"),
        (b"x" * (MAX_FILE_BYTES + 1), "too_large"),
        (b"Client Name;Client ID;Client Code;Status\r\nAcme;1;A;Active\r\n", "delimiter"),
        (b"Client Name\tClient ID\tClient Code\r\n", "delimiter"),
        (b"Name,Code\r\nAcme,A\r\n", "missing_columns"),
        (
            "Client Name,Client ID,Client Code\r\nSoci\xe9t\xe9 G\xe9n\xe9rale,1,SG\r\n".encode(
                "latin-1"
            )
            * 1,
            "encoding",
        ),
    ],
)
def test_bad_files_are_refused_whole(data, code):
    with pytest.raises(FileRejected) as caught:
        clients(data)
    assert caught.value.code == code
    assert str(FILE_ERRORS[code]) % {
        "file": "clients.csv",
        "delimiter": "x",
        "columns": "x",
        "expected": "x",
    }


def test_a_bom_and_extra_columns_are_read():
    table = clients(
        b"\xef\xbb\xbf" + b"Client Name,Client Code,Partner,Client ID\r\nAcme,A,Bob,9\r\n"
    )
    assert table.had_bom
    assert table.ignored_columns == ["Partner"]
    assert table.rows[0].values == {"Client Name": "Acme", "Client ID": "9", "Client Code": "A"}


def test_a_line_that_is_not_utf8_is_rejected_alone():
    data = (
        "Client Name,Client ID,Client Code\r\n"
        + "".join(f"Client {n},{n},C{n}\r\n" for n in range(60))
    ).encode() + "Soci\xe9t\xe9,99,SG\r\n".encode("latin-1")
    table = clients(data)
    assert [row.error for row in table.rows][-1] == ("bad_encoding", {})
    assert all(row.error is None for row in table.rows[:-1])


def test_clients_are_matched_by_code_then_name_never_created():
    existing = [(1, "ACME", "Acme Corporation", False), (2, False, "dupont, fils", "1002")]
    plan = plan_clients(clients().rows, existing)
    assert [(p.line, p.action, p.target_id) for p in plan] == [
        (2, "update", 1),  # by code: gets its Accounting CS id
        (3, "match", 2),  # by name; its Accounting CS id is already right
        (4, "reject", None),
        (5, "reject", None),
        (6, "reject", None),
    ]
    assert plan[0].values == {"accounting_cs_id": "1001"}
    assert plan[1].values == {"accounting_cs_id": "1002"}
    assert plan[2].error[0] == "unknown_client"
    assert plan[3].error == ("duplicate_code", {"code": "ACME", "line": 2})
    assert plan[4].error == ("missing_value", {"column": "Client Name"})
    again = plan_clients(clients().rows, [(1, "ACME", "Acme", "1001")])
    assert again[0].action == "match"


def test_vendors_are_matched_by_reference_then_name_or_created():
    table = vendors(
        "Vendor Code,Vendor Name,Default GL Code\r\n"
        "OFF01,Office Depot Inc,6100\r\n"
        "SHE01,Shell,\r\n"
        "NEW01,New Vendor,6400\r\n"
        "BAD01,Bad GL,9999\r\n"
        "OFF01,Office Again,\r\n"
    )
    partners = [(10, "OFF01", "Office Depot"), (11, False, "shell")]
    plan = plan_vendors(table.rows, partners, {"6100": 100, "6400": 101})
    assert [(p.action, p.target_id) for p in plan] == [
        ("update", 10),
        ("update", 11),
        ("create", None),
        ("reject", None),
        ("reject", None),
    ]
    assert plan[0].values == {"name": "Office Depot Inc", "gl_account_id": 100}
    assert plan[1].values == {"ref": "SHE01", "gl_account_id": None}
    assert plan[2].values == {"ref": "NEW01", "name": "New Vendor", "gl_account_id": 101}
    assert plan[3].error == ("unknown_gl_code", {"code": "9999"})
    assert plan[4].error == ("duplicate_code", {"code": "OFF01", "line": 2})


def test_every_row_error_formats():
    params = {"column": "x", "code": "x", "line": 2, "name": "x"}
    for text in ROW_ERRORS.values():
        assert str(text) % params
