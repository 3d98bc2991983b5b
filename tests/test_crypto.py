import os
import stat
import threading

import pytest
from cryptography.fernet import Fernet

from ledgersync_connector.crypto import (
    SecretBox,
    SecretKeyError,
    key_file_path,
    load_or_create_key_file,
    parse_keys,
    remove_key_file,
    resolve_key_material,
)


def new_key():
    return Fernet.generate_key().decode()


def test_round_trip_and_ciphertext_hides_plaintext():
    box = SecretBox(new_key())
    token = box.encrypt("s3cret-p@ss")
    assert "s3cret" not in token
    assert box.decrypt(token) == "s3cret-p@ss"
    # Fernet tokens are randomised: the same secret never gives the same column value.
    assert box.encrypt("s3cret-p@ss") != token


def test_unicode_secret():
    box = SecretBox(new_key())
    assert box.decrypt(box.encrypt("pässwörd-✓")) == "pässwörd-✓"


@pytest.mark.parametrize("bad", ["", None, "   ", ","])
def test_missing_key_is_a_clear_error(bad):
    with pytest.raises(SecretKeyError, match="No encryption key"):
        parse_keys(bad)


def test_malformed_key_names_position_not_value():
    good = new_key()
    with pytest.raises(SecretKeyError) as info:
        SecretBox(f"{good},not-a-fernet-key")
    assert "#2" in str(info.value)
    assert "not-a-fernet-key" not in str(info.value)


def test_empty_plaintext_refused():
    box = SecretBox(new_key())
    with pytest.raises(ValueError):
        box.encrypt("")


def test_wrong_key_does_not_decrypt():
    token = SecretBox(new_key()).encrypt("secret")
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        SecretBox(new_key()).decrypt(token)
    with pytest.raises(SecretKeyError):
        SecretBox(new_key()).decrypt("garbage")


def test_key_rotation():
    old_key, new = new_key(), new_key()
    old_token = SecretBox(old_key).encrypt("secret")
    rotated_box = SecretBox(f"{new}, {old_key}")
    # Old tokens still open while both keys are configured ...
    assert rotated_box.decrypt(old_token) == "secret"
    assert not rotated_box.is_current(old_token)
    # ... rotate() re-encrypts with the new key ...
    new_token = rotated_box.rotate(old_token)
    assert rotated_box.is_current(new_token)
    # ... after which the old key can be dropped.
    assert SecretBox(new).decrypt(new_token) == "secret"
    with pytest.raises(SecretKeyError):
        SecretBox(new).decrypt(old_token)


def test_key_file_created_once_with_0600(tmp_path):
    path = tmp_path / "keys" / "db.key"
    first = load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(path) == first
    SecretBox(first)  # a valid key


def test_key_file_concurrent_creation_yields_one_key(tmp_path):
    path = tmp_path / "race.key"
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(load_or_create_key_file(path)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1


def test_key_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "open.key"
    path.write_text(new_key())
    os.chmod(path, 0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        load_or_create_key_file(path)


def test_resolution_order(tmp_path):
    config_key, env_key = new_key(), new_key()
    key_file = tmp_path / "k.key"
    assert resolve_key_material(config_key, env_key, key_file) == config_key
    assert resolve_key_material(None, env_key, key_file) == env_key
    assert resolve_key_material("", "  ", key_file) == load_or_create_key_file(key_file)
    with pytest.raises(SecretKeyError):
        resolve_key_material(None, None, None)


def test_lost_key_file_is_not_replaced_while_secrets_need_it(tmp_path):
    path = key_file_path(tmp_path, "db1")
    assert path == tmp_path / "ledgersync_connector" / "db1.key"
    with pytest.raises(SecretKeyError) as info:
        resolve_key_material(None, None, path, secrets_exist=True)
    assert info.value.code == "key_missing"
    assert info.value.detail == str(path)
    assert not path.exists()
    # Without secrets to open, a first key is made; then it is read, secrets or not.
    key = resolve_key_material(None, None, path, secrets_exist=False)
    assert resolve_key_material(None, None, path, secrets_exist=True) == key
    # Configured keys need no key file at all.
    configured = new_key()
    assert resolve_key_material(configured, None, tmp_path / "x.key", secrets_exist=True) == (
        configured
    )


def test_unusable_key_file_is_a_key_error_not_an_os_error(tmp_path):
    blocker = tmp_path / "ledgersync_connector"
    blocker.write_text("a file where the key folder should be")
    with pytest.raises(SecretKeyError) as info:
        load_or_create_key_file(key_file_path(tmp_path, "db"))
    assert info.value.code == "key_file_unusable"
    assert str(blocker) in info.value.detail
    open_file = tmp_path / "open.key"
    open_file.write_text(new_key())
    os.chmod(open_file, 0o644)
    with pytest.raises(SecretKeyError) as info:
        load_or_create_key_file(open_file)
    assert info.value.code == "key_file_unusable"


def test_key_error_codes():
    with pytest.raises(SecretKeyError) as info:
        SecretBox("not-a-key")
    assert (info.value.code, info.value.detail) == ("key_invalid", "#1")
    with pytest.raises(SecretKeyError) as info:
        SecretBox(new_key()).decrypt(SecretBox(new_key()).encrypt("secret"))
    assert info.value.code == "key_error"


def test_remove_key_file(tmp_path):
    path = key_file_path(tmp_path, "db")
    load_or_create_key_file(path)
    other = key_file_path(tmp_path, "other")
    load_or_create_key_file(other)
    assert remove_key_file(path)
    assert not path.exists()
    assert other.exists(), "the other databases' key files stay"
    assert remove_key_file(other)
    assert not other.parent.exists(), "the empty folder goes too"
    assert not remove_key_file(path)


def test_repr_shows_no_key():
    key = new_key()
    assert key not in repr(SecretBox(key))
