"""install.sh mounts the storage root nosuid,nodev (mount_nosuid_nodev): a setuid-root file or a
device node an app's container made in its entry's directory is nothing on the host. Runs the
script's own function on a directory of the test's, a bind mount of itself removed after."""

import re
import subprocess
from pathlib import Path

INSTALL_SH = Path(__file__).resolve().parents[2] / "install.sh"


def function(name: str) -> str:
    found = re.search(rf"^{name}\(\) {{( .*? }}|\n.*?^}})\n", INSTALL_SH.read_text(), re.MULTILINE | re.DOTALL)
    assert found, f"install.sh has no {name}()"
    return found.group(0)


def options_of(path: Path) -> list[str]:
    shown = subprocess.run(
        ["findmnt", "-n", "-o", "OPTIONS", "--mountpoint", str(path)], capture_output=True, text=True
    )
    return shown.stdout.strip().split(",")


def test_the_storage_root_is_mounted_nosuid_nodev_once(tmp_path):
    root, fstab = tmp_path / "storage", tmp_path / "fstab"
    root.mkdir()
    script = "set -eu\n" + function("info") + function("mount_nosuid_nodev") + 'mount_nosuid_nodev "$1" "$2"\n'
    try:
        for _ in range(2):
            done = subprocess.run(
                ["bash", "-c", script, "install", str(root), str(fstab)], capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
        assert "already mounted nosuid,nodev" in done.stdout
        assert {"nosuid", "nodev"} <= set(options_of(root))
        assert fstab.read_text() == f"{root} {root} none bind,nosuid,nodev 0 0\n"
    finally:
        while options_of(root) != [""]:
            subprocess.run(["umount", str(root)], check=True)


def test_where_mounts_are_forbidden_the_install_goes_on_and_says_so(tmp_path):
    """A container-based VPS may refuse mount(2); the install must not stop there."""
    missing, fstab = tmp_path / "not-a-directory", tmp_path / "fstab"
    script = "set -eu\n" + function("info") + function("mount_nosuid_nodev") + 'mount_nosuid_nodev "$1" "$2"\n'
    done = subprocess.run(["bash", "-c", script, "install", str(missing), str(fstab)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"could not mount {missing} nosuid,nodev here" in done.stdout
    assert not fstab.exists()
