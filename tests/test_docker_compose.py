"""Static checks of docker-compose.yml and docker/odoo.conf (Docker itself is not needed)."""

import configparser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse docker-compose.yml")

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ODOO_CONF = ROOT / "docker" / "odoo.conf"


@pytest.fixture(scope="module")
def compose():
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def odoo_conf():
    parser = configparser.RawConfigParser()
    assert parser.read(ODOO_CONF, encoding="utf-8"), f"cannot read {ODOO_CONF}"
    return parser["options"]


def _as_list(value):
    """Compose accepts a command/entrypoint as a string or a list."""
    if isinstance(value, str):
        return value.split()
    return [str(item) for item in value]


def _volume_targets(service):
    """Map container path -> (source, options) of the short-syntax volumes."""
    targets = {}
    for volume in service.get("volumes", []):
        parts = volume.split(":")
        source, target = parts[0], parts[1]
        options = parts[2] if len(parts) > 2 else ""
        targets[target] = (source, options)
    return targets


def test_services_and_images(services):
    assert set(services) == {"db", "odoo", "sandbox"}
    assert services["db"]["image"] == "postgres:16"
    assert services["odoo"]["image"] == "odoo:19"
    assert services["sandbox"]["image"] == "odoo:19"


def test_db_service(services, compose):
    db = services["db"]
    env = db["environment"]
    assert env["POSTGRES_USER"] == "odoo"
    assert env["POSTGRES_PASSWORD"] == "odoo"
    assert env["POSTGRES_DB"] == "postgres"
    source, _options = _volume_targets(db)["/var/lib/postgresql/data"]
    assert source in compose["volumes"], "the database must live in a named volume"


def test_odoo_mounts_addon_config_and_data(services, compose):
    odoo = services["odoo"]
    mounts = _volume_targets(odoo)
    source, options = mounts["/mnt/extra-addons/ledgersync_connector"]
    assert source == "./ledgersync_connector"
    assert "ro" in options.split(",")
    assert (ROOT / "ledgersync_connector" / "__manifest__.py").is_file()
    # The addon's tests find the sandbox beside the addon folder, as in the repository.
    source, options = mounts["/mnt/extra-addons/ledgersync_sandbox"]
    assert source == "./ledgersync_sandbox"
    assert "ro" in options.split(",")
    source, _options = mounts["/etc/odoo/odoo.conf"]
    assert source == "./docker/odoo.conf"
    assert ODOO_CONF.is_file()
    source, _options = mounts["/var/lib/odoo"]
    assert source in compose["volumes"], "the filestore/key dir must live in a named volume"


def test_odoo_port_and_dependency(services):
    odoo = services["odoo"]
    assert "8069:8069" in [str(port) for port in odoo["ports"]]
    assert "db" in odoo["depends_on"]


def test_odoo_command_installs_the_addon(services):
    command = _as_list(services["odoo"]["command"])
    # The official image's entrypoint runs Odoo when the first word is "odoo" or "--"
    # (or an option); anything else is executed as a plain command.
    assert command[0] in ("odoo", "--") or command[0].startswith("-")
    args = command[1:] if command[0] in ("odoo", "--") else command

    def option_values(short, long):
        values = []
        for index, arg in enumerate(args):
            if arg in (short, long) and index + 1 < len(args):
                values.append(args[index + 1])
            elif arg.startswith(long + "="):
                values.append(arg.split("=", 1)[1])
        return values

    databases = option_values("-d", "--database")
    assert databases == ["ledgersync"]
    installed = [name for value in option_values("-i", "--init") for name in value.split(",")]
    assert "ledgersync_connector" in installed


def test_sandbox_service(services):
    sandbox = services["sandbox"]
    assert sandbox["network_mode"] == "service:odoo"
    assert sandbox["working_dir"] == "/opt/ledgersync"
    source, options = _volume_targets(sandbox)["/opt/ledgersync/ledgersync_sandbox"]
    assert source == "./ledgersync_sandbox"
    assert "ro" in options.split(",")
    entrypoint = _as_list(sandbox["entrypoint"])
    assert entrypoint[:3] == ["python3", "-m", "ledgersync_sandbox"]
    assert entrypoint[entrypoint.index("--host") + 1] == "127.0.0.1"
    assert entrypoint[entrypoint.index("--port") + 1] == "8079"
    # With network_mode "service:..." a service may not publish ports of its own.
    assert "ports" not in sandbox


def test_sandbox_package_is_runnable_with_dash_m():
    assert (ROOT / "ledgersync_sandbox" / "__main__.py").is_file()


def test_odoo_conf_database_and_addons_path(odoo_conf):
    assert odoo_conf["db_host"] == "db"
    assert odoo_conf["db_user"] == "odoo"
    assert odoo_conf["db_password"] == "odoo"
    paths = [path.strip() for path in odoo_conf["addons_path"].split(",")]
    assert "/mnt/extra-addons" in paths


def test_odoo_conf_points_at_the_sandbox(odoo_conf, services):
    url = urlsplit(odoo_conf["ledgersync_base_url"])
    assert url.scheme == "http"
    assert url.hostname == "localhost"
    entrypoint = _as_list(services["sandbox"]["entrypoint"])
    assert str(url.port) == entrypoint[entrypoint.index("--port") + 1]
    # The key option is documented but left unset, so the key file is used.
    assert "ledgersync_encryption_keys" not in odoo_conf
    assert "ledgersync_encryption_keys" in ODOO_CONF.read_text(encoding="utf-8")
