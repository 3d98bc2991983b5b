"""Every translatable string of the Python code is in the exported template (i18n/*.pot).

Regenerate the template with Odoo's exporter, from the repository root:
``odoo-bin i18n export -d <db> ledgersync_connector -o <this addon>/i18n/ledgersync_connector.pot``.
"""

import ast
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "ledgersync_connector"
POT = ADDON / "i18n" / "ledgersync_connector.pot"


def pot_msgids():
    msgids, current, in_msgid = set(), [], False
    for line in POT.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            current, in_msgid = [line[6:]], True
        elif line.startswith('"') and in_msgid:
            current.append(line)
        else:
            if in_msgid:
                msgids.add("".join(ast.literal_eval(part) for part in current))
            in_msgid = False
    return msgids


def code_strings():
    """First literal argument of every ``_(...)``, ``env._(...)`` and ``_lt(...)`` (lazy
    translation) call in the addon: the calls Odoo's exporter extracts."""
    found = {}
    for path in ADDON.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if (
                name in ("_", "_lt")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found[first.value] = f"{path.relative_to(ADDON)}:{node.lineno}"
    return found


def test_template_exists_and_has_entries():
    assert POT.is_file()
    assert len(pot_msgids()) > 100


def test_every_code_string_is_in_the_template():
    msgids = pot_msgids()
    strings = code_strings()
    assert len(strings) > 30
    missing = {text: where for text, where in strings.items() if text not in msgids}
    assert not missing, f"re-export the .pot; missing: {missing}"
