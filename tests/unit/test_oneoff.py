"""run and enter without Docker: the command a container runs, which container enter picks, and
how the command line reaches them."""

import pytest
from click.testing import CliRunner

from minidokku.cli import cli
from minidokku.errors import NotFound
from minidokku.ops.oneoff import choose, command_argv
from minidokku.runtime.docker_scheduler import Container


def container(name: str, process_type: str, container_id: str = "", running: bool = True) -> Container:
    return Container(container_id or f"id-of-{name}", name, process_type, host_port=None, running=running)


WEB_1 = container("cat.web.1", "web", "aaaa1111" + "0" * 56)
WEB_2 = container("cat.web.2", "web")
WEB_1_UPCOMING = container("cat.web.1.upcoming-ab12cd", "web")
WEB_1_RETIRING = container("cat.web.1.retiring-ef34ab", "web")
WORKER_1 = container("cat.worker.1", "worker", "bbbb2222" + "0" * 56)
WORKER_1_STOPPED = container("cat.worker.1", "worker", running=False)


def test_several_words_are_an_argv_passed_as_given():
    assert command_argv(["python", "-c", "import sys; sys.exit(3)"]) == ["python", "-c", "import sys; sys.exit(3)"]
    assert command_argv(["echo", "$HOME"]) == ["echo", "$HOME"]


def test_one_word_is_a_bash_command_line_and_none_is_bash():
    assert command_argv(["echo $HOME && ls"]) == ["bash", "-c", "echo $HOME && ls"]
    assert command_argv([]) == ["bash"]


def test_a_process_type_names_its_first_plain_named_container():
    assert choose([WEB_1_UPCOMING, WORKER_1, WEB_2, WEB_1], "cat", "web") == WEB_1


def test_a_dyno_names_its_container_even_while_a_deploy_renames_it():
    assert choose([WEB_1, WEB_2, WORKER_1], "cat", "web.2") == WEB_2
    assert choose([WEB_1_UPCOMING, WORKER_1], "cat", "web.1") == WEB_1_UPCOMING
    assert choose([WEB_1_RETIRING, WORKER_1], "cat", "web.1") == WEB_1_RETIRING


def test_a_container_name_or_id_prefix_names_that_container():
    assert choose([WEB_1, WEB_2, WORKER_1], "cat", "cat.worker.1") == WORKER_1
    assert choose([WEB_1, WEB_2, WORKER_1], "cat", "bbbb22") == WORKER_1
    assert choose([WEB_1, WEB_2, WORKER_1], "cat", WEB_1.id) == WEB_1


def test_without_a_target_the_only_process_type_is_entered():
    assert choose([WEB_2, WEB_1], "cat", None) == WEB_1


def test_without_a_target_several_process_types_are_listed():
    with pytest.raises(NotFound, match=r"^cat runs several process types; name one of: web, worker$"):
        choose([WEB_1, WORKER_1], "cat", None)


def test_an_unknown_target_lists_what_runs_on_one_line():
    with pytest.raises(NotFound, match=r"^cat has no process or container 'db'; running: web.1, web.2, worker.1$"):
        choose([WEB_1, WEB_2, WORKER_1], "cat", "db")


def test_stopped_containers_are_not_entered():
    assert choose([WORKER_1_STOPPED, WEB_1], "cat", None) == WEB_1
    with pytest.raises(NotFound, match="^cat has no process or container 'worker'; running: web.1$"):
        choose([WORKER_1_STOPPED, WEB_1], "cat", "worker")


@pytest.mark.parametrize("containers", [[], [WORKER_1_STOPPED]])
def test_an_app_with_no_running_container_has_nothing_to_enter(containers):
    with pytest.raises(NotFound, match="^cat has no running containers$"):
        choose(containers, "cat", "web")


@pytest.fixture
def dokku(tmp_path, monkeypatch):
    monkeypatch.setenv("DOKKU_ROOT", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(cli, ["apps:create", "cat"]).exit_code == 0
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", [["python", "-c", "print(1)"], ["ls", "-h"], ["mytool", "--no-tty", "--help"]])
def test_options_after_the_app_belong_to_the_command(dokku, command):
    result = dokku("run", "cat", *command)
    assert (result.exit_code, result.output) == (1, " !     cat has not been deployed yet\n")


def test_run_of_an_unknown_app_is_a_one_line_error(dokku):
    result = dokku("run", "dog", "ls")
    assert (result.exit_code, result.output) == (20, " !     App dog does not exist\n")
