import threading
from typing import Optional

import pytest
import test_reports

from minidokku.access import rules
from minidokku.errors import DeployFailed, ValidationError
from minidokku.records import properties
from minidokku.records.appjson import AppJson
from minidokku.runtime import checks
from minidokku.runtime.checks import Check
from minidokku.runtime.docker_scheduler import Container
from minidokku.state import Store

dokku = test_reports.dokku  # the CLI on a root with the app catmeow

NO_APP_JSON = AppJson()


# -- which checks -------------------------------------------------------------------------
def test_default_web_checks_are_listening_then_up_for_two_seconds():
    assert checks.checks_for("web", NO_APP_JSON, "", {}) == [
        Check(description="answers HTTP on its port", listening=True),
        Check(description="up for 2 s", uptime=2),
    ]


@pytest.mark.parametrize("process_type", ["worker", "clock"])
def test_default_checks_of_other_types_are_uptime_only(process_type):
    assert checks.checks_for(process_type, NO_APP_JSON, "", {}) == [Check(description="up for 2 s", uptime=2)]


def test_dokku_default_checks_wait_changes_the_uptime():
    found = checks.checks_for("web", NO_APP_JSON, "", {"DOKKU_DEFAULT_CHECKS_WAIT": "7"})
    assert [check.uptime for check in found] == [0, 7]
    assert found[1].description == "up for 7 s"


def test_a_bad_dokku_default_checks_wait_is_refused():
    with pytest.raises(ValidationError, match="DOKKU_DEFAULT_CHECKS_WAIT must be a whole number of seconds"):
        checks.checks_for("worker", NO_APP_JSON, "", {"DOKKU_DEFAULT_CHECKS_WAIT": "soon"})


def test_an_uptime_longer_than_the_old_containers_may_stay_ready_is_refused():
    """The old containers stay ready (and the app locked) through a deploy's uptime window: a
    tenant may not make it hours long, whether in app.json or in the config."""
    longest = checks.MAX_UPTIME
    assert [
        c.uptime for c in checks.checks_for("worker", AppJson(healthchecks={"worker": [{"uptime": longest}]}), "", {})
    ] == [longest]
    with pytest.raises(
        ValidationError, match=r"^app.json: healthchecks.worker: uptime must be at most 300 seconds, got 301$"
    ):
        checks.checks_for("worker", AppJson(healthchecks={"worker": [{"uptime": longest + 1}]}), "", {})
    with pytest.raises(ValidationError, match=r"^DOKKU_DEFAULT_CHECKS_WAIT must be at most 300 seconds, got 86400$"):
        checks.checks_for("web", NO_APP_JSON, "", {"DOKKU_DEFAULT_CHECKS_WAIT": "86400"})


def test_app_json_startup_checks_win_over_the_checks_file_and_the_default():
    app_json = AppJson(
        healthchecks={
            "web": [
                {"type": "startup", "name": "home", "path": "/", "content": "Welcome", "attempts": 4, "wait": 1},
                {"uptime": 3},
            ]
        }
    )
    found = checks.checks_for("web", app_json, "/other expected\n", {"DOKKU_DEFAULT_CHECKS_WAIT": "9"})
    assert found == [
        Check(description="home", path="/", content="Welcome", attempts=4, timeout=5, wait=1),
        Check(description="uptime", uptime=3),
    ]


def test_app_json_check_values_get_sane_floors_and_defaults():
    app_json = AppJson(healthchecks={"web": [{"path": "/up", "attempts": 0, "timeout": 0, "initialDelay": 2}]})
    assert checks.checks_for("web", app_json, "", {}) == [
        Check(description="/up", path="/up", attempts=1, timeout=5, wait=5, initial_delay=2)
    ]


def test_an_app_json_listening_check_is_described_as_listening():
    app_json = AppJson(healthchecks={"web": [{"listening": True}]})
    assert checks.checks_for("web", app_json, "", {}) == [Check(description="listening", listening=True)]


def test_liveness_and_readiness_checks_are_not_run_at_deploy():
    app_json = AppJson(
        healthchecks={
            "web": [{"type": "liveness", "path": "/alive"}, {"type": "readiness", "path": "/ready"}],
            "worker": [{"type": "liveness", "uptime": 30}],
        }
    )
    assert checks.checks_for("web", app_json, "/ ok\n", {}) == checks.parse_checks_file("/ ok\n", {})
    assert checks.checks_for("worker", app_json, "", {}) == [Check(description="up for 2 s", uptime=2)]


def test_app_json_checks_of_another_type_do_not_apply():
    app_json = AppJson(healthchecks={"worker": [{"uptime": 9}]})
    assert checks.checks_for("web", app_json, "", {})[0].listening


def test_the_checks_file_wins_over_the_default_for_web():
    assert checks.checks_for("web", NO_APP_JSON, "/health ok\n", {}) == [
        Check(description="/health ok", path="/health", content="ok", attempts=5, timeout=30, wait=5, initial_delay=5)
    ]


def test_the_checks_file_is_for_web_only():
    assert checks.checks_for("worker", NO_APP_JSON, "/health ok\n", {}) == [Check(description="up for 2 s", uptime=2)]


def test_a_blank_checks_file_means_the_default():
    assert checks.checks_for("web", NO_APP_JSON, "  \n\n", {}) == checks.checks_for("web", NO_APP_JSON, "", {})


def test_a_path_check_on_a_type_without_a_port_is_refused():
    app_json = AppJson(healthchecks={"worker": [{"path": "/health"}]})
    with pytest.raises(ValidationError, match="the path check of worker needs a port: only web has one"):
        checks.checks_for("worker", app_json, "", {})


# -- the CHECKS file ----------------------------------------------------------------------
def test_checks_file_comments_and_blank_lines_are_skipped():
    assert checks.parse_checks_file("# a comment\n\n   # indented\n", {}) == []


def test_checks_file_lines_use_dokku_defaults():
    [check] = checks.parse_checks_file("/ Hello world\n", {})
    assert check == Check(
        description="/ Hello world",
        path="/",
        content="Hello world",
        attempts=5,
        timeout=30,
        wait=5,
        initial_delay=5,
    )


def test_checks_file_settings_apply_to_every_check_wherever_they_are():
    text = "/first\nWAIT=2\nTIMEOUT=3\nATTEMPTS=4\n/second text\n"
    found = checks.parse_checks_file(text, {})
    assert [(c.path, c.content, c.wait, c.initial_delay, c.timeout, c.attempts) for c in found] == [
        ("/first", "", 2, 2, 3, 4),
        ("/second", "text", 2, 2, 3, 4),
    ]


def test_checks_file_zero_attempts_and_timeout_are_raised_to_one():
    [check] = checks.parse_checks_file("ATTEMPTS=0\nTIMEOUT=0\nWAIT=0\n/\n", {})
    assert (check.attempts, check.timeout, check.wait, check.initial_delay) == (1, 1, 0, 0)


@pytest.mark.parametrize(
    ("line", "host", "path", "content"),
    [
        ("/path content", "", "/path", "content"),
        ("/path?q=1 some text here", "", "/path?q=1", "some text here"),
        ("//example.com/path", "example.com", "/path", ""),
        ("//example.com", "example.com", "/", ""),
        ("http://example.com/path content", "example.com", "/path", "content"),
        ("https://example.com:8443/a/b ok", "example.com:8443", "/a/b", "ok"),
    ],
)
def test_checks_file_targets(line, host, path, content):
    [check] = checks.parse_checks_file(line, {})
    assert (check.host, check.path, check.content, check.description) == (host, path, content, line)


@pytest.mark.parametrize("line", ["health ok", "example.com/path", "ftp://host/path"])
def test_a_checks_file_line_without_a_path_is_refused_with_its_number(line):
    with pytest.raises(ValidationError, match="CHECKS line 3: expected a /path"):
        checks.parse_checks_file(f"# comment\n/ ok\n{line}\n", {})


def test_a_bad_checks_file_setting_is_refused_with_its_line():
    with pytest.raises(ValidationError, match="CHECKS line 2: WAIT must be a whole number of seconds"):
        checks.parse_checks_file("/\nWAIT=five\n", {})


def test_dokku_checks_env_vars_override_the_file():
    env = {"DOKKU_CHECKS_WAIT": "1", "DOKKU_CHECKS_TIMEOUT": "2", "DOKKU_CHECKS_ATTEMPTS": "9"}
    [check] = checks.parse_checks_file("WAIT=10\nTIMEOUT=20\nATTEMPTS=3\n/\n", env)
    assert (check.wait, check.initial_delay, check.timeout, check.attempts) == (1, 1, 2, 9)


def test_empty_dokku_checks_env_vars_leave_the_file_settings():
    [check] = checks.parse_checks_file("WAIT=10\n/\n", {"DOKKU_CHECKS_WAIT": ""})
    assert check.wait == 10


def test_a_bad_dokku_checks_env_var_is_refused():
    with pytest.raises(ValidationError, match="DOKKU_CHECKS_ATTEMPTS must be a whole number"):
        checks.parse_checks_file("/\n", {"DOKKU_CHECKS_ATTEMPTS": "-1"})


@pytest.mark.parametrize(
    "read",
    [
        lambda tmp_path, value: checks.parse_checks_file(f"WAIT={value}\n/\n", {}),
        lambda tmp_path, value: checks.parse_checks_file("/\n", {"DOKKU_CHECKS_TIMEOUT": value}),
        lambda tmp_path, value: checks.checks_for("web", NO_APP_JSON, "", {"DOKKU_DEFAULT_CHECKS_WAIT": value}),
        lambda tmp_path, value: checks.set_property(Store(tmp_path), "catmeow", "wait-to-retire", value),
    ],
    ids=["checks-file", "dokku-checks-env", "default-checks-wait", "wait-to-retire-property"],
)
def test_seconds_in_unicode_superscript_digits_are_a_validation_error(tmp_path, read):
    with pytest.raises(ValidationError):
        read(tmp_path, "²")


# -- checks:disable|enable|skip -----------------------------------------------------------
def test_every_type_is_enabled_by_default(tmp_path):
    assert checks.mode(Store(tmp_path), "catmeow", "web") == "enabled"


def test_disable_all_then_enable_one_type(tmp_path):
    store = Store(tmp_path)
    checks.set_mode(store, "catmeow", [], "disabled")
    assert [checks.mode(store, "catmeow", t) for t in ("web", "worker")] == ["disabled", "disabled"]
    checks.set_mode(store, "catmeow", ["web"], "enabled")
    assert [checks.mode(store, "catmeow", t) for t in ("web", "worker")] == ["enabled", "disabled"]


def test_skip_one_type_leaves_the_others_enabled(tmp_path):
    store = Store(tmp_path)
    checks.set_mode(store, "catmeow", ["worker"], "skipped")
    assert [checks.mode(store, "catmeow", t) for t in ("web", "worker")] == ["enabled", "skipped"]


def test_a_type_moves_from_one_mode_to_another(tmp_path):
    store = Store(tmp_path)
    checks.set_mode(store, "catmeow", ["web", "worker"], "disabled")
    checks.set_mode(store, "catmeow", ["web"], "skipped")
    assert [checks.mode(store, "catmeow", t) for t in ("web", "worker")] == ["skipped", "disabled"]
    assert properties.get(store, "catmeow", checks.FAMILY, "disabled") == "worker"


def test_enable_all_clears_every_type_named_before(tmp_path):
    store = Store(tmp_path)
    checks.set_mode(store, "catmeow", [], "skipped")
    checks.set_mode(store, "catmeow", ["web"], "disabled")
    checks.set_mode(store, "catmeow", ["clock"], "enabled")
    checks.set_mode(store, "catmeow", [], "enabled")
    assert [checks.mode(store, "catmeow", t) for t in ("web", "worker", "clock")] == ["enabled"] * 3
    assert properties.read_all(store, "catmeow", checks.FAMILY) == {}


def test_modes_of_one_app_do_not_touch_another(tmp_path):
    store = Store(tmp_path)
    checks.set_mode(store, "catmeow", [], "disabled")
    assert checks.mode(store, "dogwoof", "web") == "enabled"


# -- wait-to-retire -----------------------------------------------------------------------
def test_wait_to_retire_defaults_to_60_seconds(tmp_path):
    assert checks.wait_to_retire(Store(tmp_path), "catmeow", {}) == 60


def test_wait_to_retire_comes_from_the_env_when_no_property_is_set(tmp_path):
    assert checks.wait_to_retire(Store(tmp_path), "catmeow", {"DOKKU_WAIT_TO_RETIRE": "15"}) == 15


def test_the_wait_to_retire_property_wins_over_the_env(tmp_path):
    store = Store(tmp_path)
    properties.put(store, "catmeow", checks.FAMILY, "wait-to-retire", "0")
    assert checks.wait_to_retire(store, "catmeow", {"DOKKU_WAIT_TO_RETIRE": "15"}) == 0


@pytest.mark.parametrize("value", ["soon", "-5", "1.5", "²"])
def test_a_bad_dokku_wait_to_retire_counts_as_the_default(tmp_path, value):
    """It is read after traffic moved: an error there would leave the old containers running."""
    assert checks.wait_to_retire(Store(tmp_path), "catmeow", {"DOKKU_WAIT_TO_RETIRE": value}) == 60


@pytest.mark.parametrize("value", ["soon", "-5", "1.5"])
def test_a_bad_wait_to_retire_property_is_refused(tmp_path, value):
    with pytest.raises(ValidationError, match="wait-to-retire must be a whole number of seconds"):
        checks.set_property(Store(tmp_path), "catmeow", "wait-to-retire", value)


def test_wait_to_retire_above_the_cap_is_refused_and_a_larger_env_value_is_capped(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(ValidationError, match="wait-to-retire must be at most 300 seconds, got 301"):
        checks.set_property(store, "catmeow", "wait-to-retire", "301")
    checks.set_property(store, "catmeow", "wait-to-retire", "300")
    assert checks.wait_to_retire(store, "catmeow", {}) == 300
    assert checks.wait_to_retire(Store(tmp_path / "other"), "cat", {"DOKKU_WAIT_TO_RETIRE": "86400"}) == 300


def test_the_global_wait_to_retire_serves_apps_with_neither_property_nor_env(tmp_path):
    store = Store(tmp_path)
    checks.set_property(store, None, "wait-to-retire", "5")
    assert checks.wait_to_retire(store, "catmeow", {}) == 5
    assert checks.wait_to_retire(store, "catmeow", {"DOKKU_WAIT_TO_RETIRE": "15"}) == 15
    checks.set_property(store, "catmeow", "wait-to-retire", "30")
    assert checks.wait_to_retire(store, "catmeow", {"DOKKU_WAIT_TO_RETIRE": "15"}) == 30
    with pytest.raises(ValidationError, match="wait-to-retire must be at most 300 seconds"):
        checks.set_property(store, None, "wait-to-retire", "301")


def test_checks_set_global_then_reports_show_the_computed_global_and_own_values(dokku):
    assert dokku("checks:set", "--global", "wait-to-retire", "5") == (0, "-----> Setting wait-to-retire to 5\n")
    assert dokku("checks:report", "catmeow", "--checks-computed-wait-to-retire") == (0, "5\n")
    assert dokku("checks:set", "catmeow", "wait-to-retire", "7")[0] == 0
    assert dokku("checks:report", "catmeow", "--checks-wait-to-retire") == (0, "7\n")
    assert dokku("checks:report", "catmeow", "--checks-computed-wait-to-retire") == (0, "7\n")
    assert dokku("checks:report", "--global") == (0, "\n".join([
        "=====> global checks information",
        "       Checks computed wait to retire: 5",
        "       Checks global wait to retire:   5",
    ]) + "\n")  # fmt: skip
    assert dokku("checks:set", "--global", "wait-to-retire") == (0, "-----> Unsetting wait-to-retire\n")
    assert dokku("checks:report", "--global", "--checks-global-wait-to-retire") == (0, "\n")


def test_a_user_key_sets_its_apps_wait_to_retire_never_the_global_one(dokku, tmp_path, monkeypatch):
    store = Store(tmp_path)
    rules.set_role(store, "alice", rules.USER)
    rules.grant(store, "catmeow", "alice")
    monkeypatch.setenv("NAME", "alice")
    assert dokku("checks:set", "catmeow", "wait-to-retire", "5")[0] == 0
    refused = dokku("checks:set", "--global", "wait-to-retire", "0")
    assert refused[0] == 1 and "checks:set is for admin keys only; alice is a user key" in refused[1]
    assert properties.get(store, None, checks.FAMILY, "wait-to-retire") == ""


# -- running them, against a fake prober (the boundary to Docker) ---------------------------
class FakeProber:
    """Answers as the containers named in it would; everything else runs and answers 200."""

    def __init__(self, exited=None, responses=None, listening=True, logs=None):
        self.exited = exited or {}  # container id -> exit code
        self.responses = responses or {}  # container id -> list of (status, body) or OSError, last one repeats
        self.listening = listening
        self.logs = logs or {}
        self.gets = {}
        self.lock = threading.Lock()

    def is_running(self, container: Container) -> tuple[bool, Optional[int]]:
        if container.id in self.exited:
            return False, self.exited[container.id]
        return True, None

    def answers_http(self, container: Container) -> bool:
        return self.listening

    def http_get(self, container: Container, path: str, host: str, timeout: int) -> tuple[int, str]:
        with self.lock:
            count = self.gets.get(container.id, 0)
            self.gets[container.id] = count + 1
        answers = self.responses.get(container.id, [(200, "ok")])
        answer = answers[min(count, len(answers) - 1)]
        if isinstance(answer, OSError):
            raise answer
        return answer

    def last_logs(self, container_id: str, lines: int = 20) -> str:
        return self.logs.get(container_id, "")


def container(number=1, process_type="web") -> Container:
    return Container(
        id=f"id{number}", name=f"catmeow.{process_type}.{number}.upcoming-ab12", process_type=process_type, host_port=0
    )


def http_check(attempts=3, content="ok") -> Check:
    return Check(description=f"/health {content}", path="/health", content=content, attempts=attempts, wait=0)


def run_all(prober, targets) -> None:
    """The checks as a deploy runs them: those traffic waits for, then the uptime window."""
    checks.watch(prober, checks.run_ready(prober, targets))


def test_no_containers_is_nothing_to_check():
    run_all(FakeProber(), [])


def test_a_listening_container_passes():
    run_all(FakeProber(), [(container(), [Check(description="answers HTTP", listening=True)])])


def test_a_container_that_exits_fails_naming_itself_with_its_last_logs():
    prober = FakeProber(exited={"id1": 137}, listening=False, logs={"id1": "Traceback: boom"})
    with pytest.raises(DeployFailed) as raised:
        run_all(prober, [(container(), [Check(description="answers HTTP", listening=True)])])
    message = str(raised.value)
    assert message.startswith("catmeow.web.1.upcoming-ab12 failed the check `answers HTTP`: it exited (status 137)")
    assert "Traceback: boom" in message


def test_an_http_check_with_the_wrong_content_fails_after_every_attempt():
    prober = FakeProber(responses={"id1": [(200, "Internal maintenance")]})
    with pytest.raises(DeployFailed, match=r"attempt 3/3: 'ok' not in the page /health"):
        run_all(prober, [(container(), [http_check(attempts=3)])])
    assert prober.gets == {"id1": 3}


def test_an_http_check_passes_once_the_content_shows():
    prober = FakeProber(responses={"id1": [(200, "starting"), (200, "all ok")]})
    run_all(prober, [(container(), [http_check(attempts=3)])])
    assert prober.gets == {"id1": 2}


def test_an_http_status_of_500_fails():
    prober = FakeProber(responses={"id1": [(500, "ok")]})
    with pytest.raises(DeployFailed, match=r"attempt 2/2: HTTP 500 for /health"):
        run_all(prober, [(container(), [http_check(attempts=2)])])


def test_an_os_error_from_the_get_counts_as_a_failed_attempt():
    prober = FakeProber(responses={"id1": [ConnectionRefusedError("connection refused"), (200, "ok")]})
    run_all(prober, [(container(), [http_check(attempts=2)])])
    assert prober.gets == {"id1": 2}


def test_os_errors_on_every_attempt_fail_with_the_last_error():
    prober = FakeProber(responses={"id1": [TimeoutError("timed out")]})
    with pytest.raises(DeployFailed, match=r"attempt 2/2: timed out"):
        run_all(prober, [(container(), [http_check(attempts=2)])])


def test_an_http_check_stops_trying_once_the_container_exits():
    prober = FakeProber(exited={"id1": 1}, responses={"id1": [(503, "")]})
    with pytest.raises(DeployFailed, match=r"it exited \(status 1\)"):
        run_all(prober, [(container(), [http_check(attempts=5)])])
    assert prober.gets == {}


def test_a_running_container_passes_an_uptime_check():
    run_all(FakeProber(), [(container(1, "worker"), [Check(description="up for 1 s", uptime=1)])])


def test_several_containers_report_every_failure():
    prober = FakeProber(
        exited={"id2": 2},
        responses={"id1": [(404, "")], "id3": [(200, "ok")]},
        logs={"id1": "log of one", "id2": "log of two"},
    )
    targets = [
        (container(1), [http_check(attempts=1)]),
        (container(2, "worker"), [Check(description="up for 1 s", uptime=1)]),
        (container(3), [http_check(attempts=1)]),
    ]
    with pytest.raises(DeployFailed) as raised:
        run_all(prober, targets)
    message = str(raised.value)
    assert "catmeow.web.1.upcoming-ab12 failed the check `/health ok`: attempt 1/1: HTTP 404 for /health" in message
    assert "catmeow.worker.2.upcoming-ab12 failed the check `up for 1 s`: it exited (status 2)" in message
    assert "log of one" in message and "log of two" in message
    assert "catmeow.web.3" not in message


class DyingProber(FakeProber):
    """A container that exits (status 1) once asked is_running `after` times."""

    def __init__(self, after: int):
        super().__init__()
        self.after = after
        self.asked = 0

    def is_running(self, container: Container) -> tuple[bool, Optional[int]]:
        self.asked += 1
        return (True, None) if self.asked <= self.after else (False, 1)


def test_uptime_checks_are_not_waited_for_before_traffic_moves_but_are_the_window():
    web, worker = container(1), container(2, "worker")
    targets = [
        (web, [Check(description="answers HTTP", listening=True), Check(description="up for 30 s", uptime=30)]),
        (worker, [Check(description="up for 2 s", uptime=2)]),
    ]
    window = checks.run_ready(FakeProber(), targets)  # returns at once: nothing waits 30 s
    assert window.due == ((web, targets[0][1][1]), (worker, targets[1][1][0]))
    assert window.seconds == 30


def test_containers_without_an_uptime_check_leave_no_window():
    window = checks.run_ready(FakeProber(), [(container(), [Check(description="answers HTTP", listening=True)])])
    assert window.due == () and window.seconds == 0
    checks.watch(DyingProber(after=0), window)  # nothing to watch, nothing asked


def test_a_container_dying_within_the_window_fails_the_watch_with_its_logs():
    prober = DyingProber(after=3)
    prober.logs = {"id1": "Traceback: crashed after a second"}
    window = checks.run_ready(prober, [(container(), [Check(description="up for 30 s", uptime=30)])])
    with pytest.raises(DeployFailed) as raised:
        checks.watch(prober, window)
    message = str(raised.value)
    assert message.startswith("catmeow.web.1.upcoming-ab12 failed the check `up for 30 s`: it exited (status 1)")
    assert "crashed after a second" in message
    assert prober.asked == 4


def test_the_window_ends_once_every_container_ran_its_uptime():
    window = checks.Window(0.0, ((container(), Check(description="up for 1 s", uptime=1)),))  # started long ago
    prober = DyingProber(after=1)
    checks.watch(prober, window)
    assert prober.asked == 1, "a container is seen running once, even when its window is over"


class LateListener(FakeProber):
    """Answers HTTP from its nth question on."""

    def __init__(self, answers_from: int):
        super().__init__()
        self.asked = 0
        self.answers_from = answers_from

    def answers_http(self, container: Container) -> bool:
        self.asked += 1
        return self.asked >= self.answers_from


def test_a_starting_container_is_asked_often_whether_it_answers(monkeypatch):
    """Traffic waits for the first answer: the listening check asks every LISTEN_POLL_SECONDS,
    well under the POLL_SECONDS other waits use."""
    slept = []
    monkeypatch.setattr(checks.time, "sleep", slept.append)
    prober = LateListener(answers_from=4)
    checks.run_ready(prober, [(container(), [Check(description="answers HTTP", listening=True)])])
    assert prober.asked == 4
    assert slept == [checks.LISTEN_POLL_SECONDS] * 3
    assert checks.LISTEN_POLL_SECONDS <= checks.POLL_SECONDS / 4
