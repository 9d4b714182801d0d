"""An app's container makes no device node (MKNOD dropped, runtime/isolation.py): in a storage
entry's directory, on the host, one would be a way to the host's disks."""

import secrets

from minidokku.records import resources
from minidokku.records.docker_options import DockerOptions
from minidokku.runtime import isolation
from minidokku.settings import STACK_REPOSITORY


def run_in_app_container(engine, argv: list[str]) -> tuple[int, str]:
    """argv's exit status and output in a container made as an app's (isolation.create_container)."""
    config = {"Image": f"{STACK_REPOSITORY}:latest", "Cmd": argv, "User": "root"}
    options = DockerOptions(network="none")
    name = f"test-{secrets.token_hex(3)}-mknod"
    container = isolation.create_container(engine, config, options, resources.PROCESS_DEFAULTS, "none", name)
    try:
        engine.start_container(container)
        status = engine.wait_container(container)
        return status, "".join(line for _, line in engine.container_logs(container))
    finally:
        engine.remove_container(container, force=True)


def test_an_app_container_cannot_make_a_device_node(engine):
    status, output = run_in_app_container(engine, ["mknod", "/tmp/disk", "b", "8", "0"])
    assert status != 0 and "Operation not permitted" in output, (status, output)
    status, output = run_in_app_container(engine, ["mkdir", "/tmp/plain"])  # the container itself works
    assert status == 0, output
