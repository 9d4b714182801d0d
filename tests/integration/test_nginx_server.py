"""nginx:stop, nginx:start and nginx:reload on a real nginx (the platform's own, on loopback):
stopped, nothing answers; started, it serves again; a configuration nginx -t refuses is neither
reloaded nor started, and nginx keeps what it had."""

import socket
import time

from helpers import wait_for_port


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_until_closed(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while answers(port):
        assert time.monotonic() < deadline, f"127.0.0.1:{port} still answers"
        time.sleep(0.05)


def test_stop_then_start_and_a_start_of_a_running_nginx_reloads_it(platform):
    stopped = platform.dokku("nginx:stop")
    assert stopped.stdout == "-----> Stopped nginx: no app is reached until `dokku nginx:start`\n"
    wait_until_closed(platform.http_port)

    started = platform.dokku("nginx:start")
    assert started.stdout == "-----> Started nginx\n"
    wait_for_port(platform.http_port)
    assert platform.get("nothing.example.test")[0] == 404  # the default server answers again

    again = platform.dokku("nginx:start")
    assert again.stdout == "-----> nginx was running: reloaded its configuration\n"
    assert platform.dokku("nginx:reload").stdout == "-----> Reloaded nginx's configuration\n"


def test_a_configuration_nginx_refuses_is_neither_reloaded_nor_started(platform):
    platform.dokku("apps:create", "broken")
    broken = platform.root / "broken" / "nginx.conf"
    broken.write_text("bogus_directive on;\n")
    try:
        refused = platform.dokku("nginx:reload", check=False)
        assert refused.returncode == 1
        assert refused.stderr.startswith(" !     nginx's configuration is invalid, so nginx was not reloaded: ")
        assert "bogus_directive" in refused.stderr and refused.stderr.count("\n") == 1
        assert platform.get("nothing.example.test")[0] == 404  # still serving what it had
        not_stopped = platform.dokku("nginx:stop", check=False)  # nginx -s reads the configuration too
        assert not_stopped.returncode == 1 and "nginx could not be stopped" in not_stopped.stderr
        assert answers(platform.http_port)

        broken.unlink()
        platform.dokku("nginx:stop")
        wait_until_closed(platform.http_port)
        broken.write_text("bogus_directive on;\n")
        not_started = platform.dokku("nginx:start", check=False)
        assert not_started.returncode == 1 and "so nginx was not started" in not_started.stderr
        assert not answers(platform.http_port)
    finally:
        broken.unlink(missing_ok=True)
    platform.dokku("nginx:start")
    wait_for_port(platform.http_port)
