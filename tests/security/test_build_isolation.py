"""A user key's builds stay in their lane: its Dockerfile cannot start from (or copy out of)
another app's image or minidokku's own images, and neither its build nor its one-off containers
run on the host's network, even where an admin made host networking the global default.

The attacker is a user key with an app of its own; the victim (conftest.py) is a buildpack app
an admin owns, whose image is `dokku/NAMESPACEvictim`.
"""

import socket
import threading

import pytest
from helpers import commit_all, free_port, git, wait_until_serving
from security_helpers import VICTIM, assert_refused, server_head, state_of

from minidokku.access import rules
from minidokku.build import tarball
from minidokku.build.builders import image_repository
from minidokku.settings import STACK_REPOSITORY

USER = "mallory"
APP = "mallory-app"
STACK = f"{STACK_REPOSITORY}:latest"
HOST_NETWORK = "--network=host --add-host probe.test:10.9.8.7"  # the name: what a tenant still gets


@pytest.fixture(scope="module")
def attacker(platform, ssh_client, victim):
    """The user key, with its own app created (and so granted to it)."""
    user = ssh_client.with_key(USER, rules.USER)
    created = user.ssh("apps:create", APP)
    assert created.returncode == 0, created.stderr
    return user


@pytest.fixture(scope="module")
def victim_image(platform, engine, victim) -> str:
    return image_repository(platform.settings()["NAMESPACE"] + VICTIM)


class LoopbackServer:
    """A TCP server on the host's 127.0.0.1 only, counting the connections it accepts."""

    def __init__(self):
        self.port = free_port()
        self.connections = 0
        self._socket = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self):
        self._socket.close()


@pytest.fixture
def loopback_server():
    server = LoopbackServer()
    yield server
    server.close()


def connect_script(port: int) -> str:
    """Python that tries the host's loopback port from inside a container, as a build step would."""
    return (
        "import socket\n"
        f"for address in ('127.0.0.1', '172.17.0.1'):\n"
        "    s = socket.socket(); s.settimeout(3)\n"
        f"    print('connect', address, s.connect_ex((address, {port})))\n"
    )


def push_dockerfile(attacker, tmp_path, dockerfile: str, **files: str):
    repo = tmp_path / "attack"
    if not repo.exists():
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
    (repo / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (repo / name).write_text(text)
    commit_all(repo, "a Dockerfile")
    return repo, attacker.push(repo, APP)


def assert_push_refused_and_nothing_changed(platform, engine, attacker, tmp_path, dockerfile: str, message: str):
    before, head = state_of(platform, engine), server_head(platform, APP)
    _, pushed = push_dockerfile(attacker, tmp_path, dockerfile)
    assert_refused(pushed, message)
    assert "pre-receive hook declined" in pushed.stderr
    assert server_head(platform, APP) == head, "the branch moved"
    assert state_of(platform, engine) == before


@pytest.mark.parametrize(
    ("dockerfile", "message"),
    [
        ("FROM {victim}\nCMD cat /app/app.py\n", "FROM {victim} (line 1) is another app's image"),
        ("FROM {victim}:latest\n", "FROM {victim}:latest (line 1) is another app's image"),
        ("FROM docker.io/{victim}\n", "is another app's image"),
        ("from {stack}\ncopy --from={victim} /app /stolen\n", "COPY --from {victim} (line 2) is another app's image"),
        ("FROM {stack} AS base\nFROM base\nCOPY --from={victim}:latest /app /x\n", "is another app's image"),
        ("# escape=`\nFROM dok`\nku/{victim_name}\n", "is another app's image"),
        ("FROM \\\n# a comment\n  dokku/{victim_name}\n", "is another app's image"),
        ("ARG B={victim}\nFROM $B\n", "names its image with a variable"),
        ("ARG B={stack}\nFROM ${{B}} AS b\n", "names its image with a variable"),
        ("FROM {stack}\nARG S={victim}\nCOPY --from=$S /app /x\n", "names its image with a variable"),
        ("FROM {victim_id}\n", "an image id is not accepted"),
        ("FROM {stack}\nCOPY --from={victim_id} /app /x\n", "an image id is not accepted"),
        ("FROM minidokku/postgres:15\n", "is one of minidokku's own images"),
        ("FROM {stack}\nRUN --mount=type=bind,from={victim},target=/v cat /v/app.py\n", "RUN takes no flags"),
        ("# syntax={victim}\nFROM {stack}\n", "cannot choose its builder"),
        ("FROM {stack}\nONBUILD COPY --from={victim} /app /x\n", "ONBUILD COPY --from {victim} (line 2) is another"),
        ("FROM {stack}\nLABEL com.dokku.app-name={victim_name} com.dokku.role=run\n", "are minidokku's own"),
    ],
)
def test_a_dockerfile_cannot_use_another_apps_or_minidokkus_images(
    platform, engine, attacker, victim_image, tmp_path, dockerfile, message
):
    victim_id = engine.inspect_image(victim_image)["Id"].removeprefix("sha256:")[:12]
    values = {
        "victim": victim_image,
        "victim_name": victim_image.removeprefix("dokku/"),
        "victim_id": victim_id,
        "stack": STACK,
    }
    assert_push_refused_and_nothing_changed(
        platform, engine, attacker, tmp_path, dockerfile.format(**values), message.format(**values)
    )


@pytest.fixture
def base_with_a_hostile_trigger(platform, engine, victim_image):
    """A base image anyone could publish: it looks harmless, its ONBUILD trigger copies the victim."""
    name = f"{platform.settings()['NAMESPACE']}innocent-base:1"
    dockerfile = f"FROM {STACK}\nONBUILD COPY --from={victim_image} /app /stolen\n"
    context = tarball.pack({"Dockerfile": (dockerfile.encode(), 0o644)})
    for _message in engine.build_image(context, name, {}):
        pass
    yield name
    engine.remove_image(name)


def test_a_base_images_onbuild_trigger_is_held_to_the_same_rules(
    platform, engine, attacker, base_with_a_hostile_trigger, tmp_path
):
    dockerfile = f"FROM {base_with_a_hostile_trigger}\nCMD cat /stolen/app.py\n"
    message = f"an ONBUILD trigger of the Dockerfile's FROM {base_with_a_hostile_trigger}: ONBUILD COPY --from"
    assert_push_refused_and_nothing_changed(platform, engine, attacker, tmp_path, dockerfile, message)


def test_a_dockerfile_link_to_another_file_is_refused(platform, engine, attacker, victim_image, tmp_path):
    """The engine would follow the link and build the file it names, not the one checked."""
    repo, _ = push_dockerfile(attacker, tmp_path, f"FROM {STACK}\n")
    (repo / "Dockerfile").unlink()
    (repo / "real").write_text(f"FROM {victim_image}\n")
    (repo / "Dockerfile").symlink_to("real")
    commit_all(repo, "a Dockerfile that is a link")
    before, head = state_of(platform, engine), server_head(platform, APP)

    pushed = attacker.push(repo, APP)

    assert_refused(pushed, "the Dockerfile must be a file, not a link")
    assert server_head(platform, APP) == head
    assert state_of(platform, engine) == before


def test_add_of_a_loopback_url_is_refused_and_the_engine_fetches_nothing(
    platform, engine, attacker, loopback_server, tmp_path
):
    """The engine itself downloads an ADD URL, from the host: a user's ADD takes only its tree's files."""
    dockerfile = f"FROM {STACK}\nADD http://127.0.0.1:{loopback_server.port}/secret /secret\n"
    assert_push_refused_and_nothing_changed(platform, engine, attacker, tmp_path, dockerfile, "can ADD only files")
    assert loopback_server.connections == 0


@pytest.fixture
def global_host_network(platform):
    """An admin's global host networking for builds and one-off runs, removed afterwards."""
    for phase in ("build", "run"):
        platform.dokku("docker-options:add", "--global", phase, HOST_NETWORK)
    yield
    for phase in ("build", "run"):
        platform.dokku("docker-options:remove", "--global", phase, HOST_NETWORK)


def test_a_users_build_and_run_do_not_get_the_admins_global_host_network(
    platform, attacker, loopback_server, global_host_network, tmp_path
):
    script = connect_script(loopback_server.port)
    dockerfile = (
        f"FROM {STACK}\n"
        "COPY connect.py /connect.py\n"
        "RUN python3 /connect.py && getent hosts probe.test\n"
        "RUN mkdir /site && echo built > /site/index.html\n"
        "EXPOSE 8080\n"
        'CMD ["python3", "-m", "http.server", "8080", "--directory", "/site"]\n'
    )

    _, pushed = push_dockerfile(attacker, tmp_path, dockerfile, **{"connect.py": script})

    assert pushed.returncode == 0, pushed.stderr
    assert f"Not applied to {APP}, a user key's app: --network host" in pushed.stderr
    assert "connect 127.0.0.1 111" in pushed.stderr  # the step ran and was refused (0 would be connected)
    # the --add-host part of the same option applies
    assert any(line.split()[-2:] == ["10.9.8.7", "probe.test"] for line in pushed.stderr.splitlines())
    wait_until_serving(platform, f"{APP}.example.test", "built\n", timeout=15)

    ran = attacker.ssh("run", "--no-tty", APP, "python3", "/connect.py")
    assert ran.returncode == 0, ran.stderr
    assert "connect 127.0.0.1 111" in ran.stdout, ran.stdout
    assert f"Not applied to {APP}, a user key's app: --network host" in ran.stderr
    assert loopback_server.connections == 0

    # the same global option does reach an admin's app: the server above would have seen a user's build
    admin_run = platform.dokku("run", "--no-tty", VICTIM, "python3", "-c", script, check=False)
    assert "connect 127.0.0.1 0" in admin_run.stdout, admin_run.stdout + admin_run.stderr
    assert loopback_server.connections >= 1
