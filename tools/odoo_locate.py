"""Find an Odoo 19 source tree for the tests and benchmarks: the one definition of where.

Order: ``ODOO_SRC``; an importable ``odoo``; ``/opt/odoo19``; ``~/odoo19``; and, when none
of those holds Odoo 19, the project's shared archive (``../shared/odoo/
odoo-19.0-community.tar.xz`` beside the repository, or ``LEDGERSYNC_ODOO_ARCHIVE``),
checked against its ``SHA256SUMS`` and unpacked once into a cache folder named after its
checksum (``LEDGERSYNC_CACHE``, default ``~/.cache/ledgersync_connector``).

Run as a script, it prints the folder holding ``odoo-bin`` (exit 0), or explains on stderr
why there is none (exit 1). Standard library only: it runs before any virtualenv exists.
"""

import contextlib
import hashlib
import os
import re
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ARCHIVE_NAME = "odoo-19.0-community.tar.xz"


class OdooNotFound(Exception):
    """No Odoo 19 source tree could be found or unpacked; the message says what was tried."""


def is_odoo19(path):
    release = Path(path) / "odoo" / "release.py"
    if not release.is_file():
        return False
    return re.search(r"^version_info = \(19, 0,", release.read_text(), re.M) is not None


def default_archive():
    return Path(
        os.environ.get("LEDGERSYNC_ODOO_ARCHIVE") or REPO.parent / "shared" / "odoo" / ARCHIVE_NAME
    )


def cache_dir():
    return Path(
        os.environ.get("LEDGERSYNC_CACHE") or Path.home() / ".cache" / "ledgersync_connector"
    )


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _expected_sha256(archive):
    """The checksum that SHA256SUMS beside the archive gives for it, if the file exists."""
    sums = archive.parent / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == archive.name:
            return parts[0].lower()
    return None


def unpack_archive(archive, cache=None):
    """The Odoo tree unpacked from ``archive``, reused while the archive's checksum matches."""
    archive = Path(archive)
    digest = _sha256(archive)
    expected = _expected_sha256(archive)
    if expected and expected != digest:
        raise OdooNotFound(f"{archive} does not match its SHA256SUMS ({digest} != {expected})")
    target = Path(cache or cache_dir()) / f"odoo-19.0-{digest[:16]}"
    if is_odoo19(target) and (target / ".unpacked").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unpack beside the target and rename: an interrupted unpack never looks complete.
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        with tarfile.open(archive, "r:xz") as tar:
            extract = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(staging, **extract)
        roots = list(staging.iterdir())
        tree = roots[0] if len(roots) == 1 and roots[0].is_dir() else staging
        if not is_odoo19(tree):
            raise OdooNotFound(f"{archive} holds no Odoo 19 source tree")
        (tree / ".unpacked").write_text(digest + "\n")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tree, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def installed_candidates():
    """The places a user's own Odoo 19 may be, in the order they are tried."""
    if os.environ.get("ODOO_SRC"):
        return [Path(os.environ["ODOO_SRC"])]
    candidates = []
    with contextlib.suppress(ImportError):
        import odoo.release

        candidates.append(Path(odoo.release.__file__).resolve().parent.parent)
    return [*candidates, Path("/opt/odoo19"), Path.home() / "odoo19"]


def find_odoo(use_archive=True):
    """The Odoo 19 source tree (the folder holding odoo-bin), or raise OdooNotFound."""
    candidates = installed_candidates()
    for candidate in candidates:
        if is_odoo19(candidate):
            return candidate
    tried = ", ".join(map(str, candidates))
    if os.environ.get("ODOO_SRC"):
        raise OdooNotFound(f"ODOO_SRC={os.environ['ODOO_SRC']} holds no Odoo 19 source tree")
    archive = default_archive()
    if use_archive and archive.is_file():
        return unpack_archive(archive)
    raise OdooNotFound(f"no Odoo 19 source tree found (tried {tried}) and no archive {archive}")


def main():
    try:
        print(find_odoo())
    except OdooNotFound as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
