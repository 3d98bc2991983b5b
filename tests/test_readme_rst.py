"""The addon's README.rst renders with docutils without a single warning or error.

Odoo renders a module's description (README.rst, unless the module ships
static/description/index.html) with docutils' ``publish_string`` and the html4css1
writer, in ``ir.module.module._get_desc`` (odoo/addons/base/models/ir_module.py); every
system message docutils emits is written to stderr during the install, e.g.
``<string>:38: (ERROR/3) Unexpected indentation.``. PyPI, GitHub and the OCA readme tools
render the same file. This test renders it the same way and fails on any message of level
WARNING (2) or above, listing them all.
"""

import io
from pathlib import Path

from docutils.core import publish_string

README = Path(__file__).resolve().parent.parent / "ledgersync_connector" / "README.rst"

# The settings_overrides of ir.module.module._get_desc (Odoo 19).
ODOO_OVERRIDES = {
    "embed_stylesheet": False,
    "doctitle_xform": False,
    "output_encoding": "unicode",
    "xml_declaration": False,
    "file_insertion_enabled": False,
}


def render(source, source_path=None):
    """(html, messages): the messages docutils reports at WARNING level or above."""
    messages = io.StringIO()
    html = publish_string(
        source=source,
        source_path=source_path,
        writer_name="html4css1",
        settings_overrides={
            **ODOO_OVERRIDES,
            "report_level": 2,  # report WARNING, ERROR and SEVERE...
            "halt_level": 5,  # ...all of them, without stopping at the first one
            "warning_stream": messages,
        },
    )
    return html, messages.getvalue()


def test_readme_renders_without_warnings():
    html, messages = render(README.read_text(encoding="utf-8"), str(README))
    assert not messages, f"docutils reports problems in {README.name}:\n{messages}"
    assert "LedgerSync Connector" in html


def test_render_reports_what_odoo_logs():
    """The check sees the messages Odoo logs at install: an indented list right under a
    paragraph, then a line back at the margin without a blank line."""
    source = "Title\n=====\n\nSome documents,\nsuch as:\n    * one\n    * two\nBack.\n"
    _html, messages = render(source)
    assert "(ERROR/3) Unexpected indentation." in messages
    assert "(WARNING/2) Block quote ends without a blank line" in messages
