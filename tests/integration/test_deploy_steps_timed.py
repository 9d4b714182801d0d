"""A deploy's per-step timing on the real engine: with trace:on, a push prints one `+ time STEP
SECONDS s` line per step of the deploy, in order; without it, none."""

import re

from helpers import APPS, git, make_git_repo

APP = "timedsteps"
STEP_LINE = re.compile(r"^remote: \+ time (\S+) (\d+\.\d{3}) s\s*$", re.MULTILINE)
PUSH_STEPS = ["receive", "build", "release", "start", "checks", "switch", "retire", "post-deploy"]


def test_a_traced_push_prints_a_timing_line_per_step_and_an_untraced_one_none(platform, tmp_path):
    repo = make_git_repo(tmp_path / APP, APPS / "dockerfile-hello")
    platform.dokku("apps:create", APP)
    platform.dokku("config:set", "--no-restart", APP, "DOKKU_DEFAULT_CHECKS_WAIT=0")
    platform.dokku("trace:on")
    traced = platform.push(repo, APP)
    assert traced.returncode == 0, traced.stderr
    steps = STEP_LINE.findall(traced.stderr)
    assert [name for name, _ in steps] == PUSH_STEPS, traced.stderr
    assert all(0 <= float(seconds) < 300 for _, seconds in steps)

    platform.dokku("trace:off")
    git(repo, "commit", "-q", "--allow-empty", "-m", "again, untraced")
    untraced = platform.push(repo, APP)
    assert untraced.returncode == 0, untraced.stderr
    assert STEP_LINE.findall(untraced.stderr) == []
    assert "Application deployed:" in untraced.stderr
