"""The python buildpack on the real engine, pushed over git's local transport and served through
nginx: each dependency style installs its locked main dependencies (dev groups left out), a
code-only push reuses the cached virtualenv, Django gets collectstatic and a default gunicorn web
process, and a Python version the stack lacks rejects the push while the old release serves on."""

import json
import re

from helpers import APPS, git, make_git_repo, wait_until_serving

UV_PAGE = "python-dateutil 2.8.2, six 1.16.0, dev iniconfig absent"


def deploy(platform, tmp_path, app: str):
    repo = make_git_repo(tmp_path / app, APPS / app)
    pushed = platform.push(repo, app)
    assert pushed.returncode == 0, pushed.stderr
    return repo, pushed.stderr


def commit_and_push(platform, repo, app: str, message: str):
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return platform.push(repo, app)


def test_uv_lock_installs_the_locked_main_dependencies_and_a_code_only_push_reuses_them(platform, tmp_path):
    repo, output = deploy(platform, tmp_path, "py-uv")

    assert re.search(r"-----> Using Python 3\.11\.2\s*$", output, re.MULTILINE), output  # no version file asks
    assert "-----> Installing dependencies locked in uv.lock with pip" in output
    wait_until_serving(platform, "py-uv.example.test", f"uv.lock: {UV_PAGE}")

    app_py = repo / "app.py"
    app_py.write_text(app_py.read_text().replace('GREETING = "uv.lock"', 'GREETING = "uv.lock, again"'))
    pushed = commit_and_push(platform, repo, "py-uv", "code only")

    assert pushed.returncode == 0, pushed.stderr
    assert "-----> Reusing installed dependencies (dependencies locked in uv.lock unchanged)" in pushed.stderr
    assert "Installing dependencies" not in pushed.stderr
    wait_until_serving(platform, "py-uv.example.test", f"uv.lock, again: {UV_PAGE}")


def test_poetry_lock_of_a_tool_poetry_project_installs_its_main_group(platform, tmp_path):
    _repo, output = deploy(platform, tmp_path, "py-poetry")

    assert "-----> Using Python 3.11.2 (.python-version asks for 3.11)" in output
    assert "-----> Installing dependencies locked in poetry.lock with pip" in output
    wait_until_serving(platform, "py-poetry.example.test", "poetry.lock: itsdangerous 2.1.2, dev iniconfig absent")


def test_pipfile_lock_installs_its_default_section(platform, tmp_path):
    _repo, output = deploy(platform, tmp_path, "py-pipenv")

    assert "-----> Using Python 3.11.2 (runtime.txt asks for python-3.11.2)" in output
    assert "-----> Installing dependencies locked in Pipfile.lock with pip" in output
    wait_until_serving(platform, "py-pipenv.example.test", "Pipfile.lock: markupsafe 2.1.3, dev iniconfig absent")


def test_a_python_version_the_stack_lacks_rejects_the_push_and_the_old_release_serves(platform, tmp_path):
    repo, _ = deploy(platform, tmp_path, "py-pipenv")
    wait_until_serving(platform, "py-pipenv.example.test", "Pipfile.lock: markupsafe 2.1.3, dev iniconfig absent")

    (repo / ".python-version").write_text("3.9\n")
    (repo / "app.py").write_text("raise SystemExit('this release must never run')\n")
    pushed = commit_and_push(platform, repo, "py-pipenv", "ask for python 3.9")

    assert pushed.returncode != 0
    assert (
        ".python-version asks for Python 3.9, but this stack has only Python 3.11.2 "
        "(no other Python can be installed here): ask for 3.11"
    ) in pushed.stderr
    assert platform.get("py-pipenv.example.test") == (200, "Pipfile.lock: markupsafe 2.1.3, dev iniconfig absent")
    assert "v2" not in platform.dokku("releases", "py-pipenv").stdout


def test_django_gets_collectstatic_unless_disabled_and_a_gunicorn_web_process(platform, tmp_path):
    """Also: a failing collectstatic rejects the push with Django's own message."""
    repo, output = deploy(platform, tmp_path, "py-django")

    assert "-----> Installing pyproject.toml's dependencies with pip" in output
    assert "-----> Running Django collectstatic" in output
    assert "1 static file copied" in output
    assert "Procfile declares types -> web" in output, "no Procfile: the buildpack's default web"
    wait_until_serving(platform, "py-django.example.test", "django says hello, static files collected")
    release = json.loads((platform.root / "py-django" / "releases" / "v1.json").read_text())
    assert release["processes"] == {"web": "gunicorn mysite.wsgi --bind 0.0.0.0:$PORT"}

    platform.dokku("config:set", "--no-restart", "py-django", "DISABLE_COLLECTSTATIC=1")
    (repo / "static" / "hello.txt").write_text("a code-only change\n")
    pushed = commit_and_push(platform, repo, "py-django", "code only, collectstatic disabled")

    assert pushed.returncode == 0, pushed.stderr
    assert "-----> Skipping Django collectstatic (DISABLE_COLLECTSTATIC is set)" in pushed.stderr
    assert "-----> Reusing installed dependencies (pyproject.toml's dependencies unchanged)" in pushed.stderr
    wait_until_serving(platform, "py-django.example.test", "django says hello, static files not collected")

    platform.dokku("config:unset", "--no-restart", "py-django", "DISABLE_COLLECTSTATIC")
    settings = repo / "mysite" / "settings.py"
    settings.write_text(settings.read_text().replace("STATIC_ROOT = ", "NOT_STATIC_ROOT = "))
    pushed = commit_and_push(platform, repo, "py-django", "no STATIC_ROOT")

    assert pushed.returncode != 0
    assert "without having set the STATIC_ROOT setting" in pushed.stderr, "Django's output is shown"
    assert " !     manage.py collectstatic failed (set DISABLE_COLLECTSTATIC=1 to skip it)" in pushed.stderr
    assert platform.get("py-django.example.test") == (200, "django says hello, static files not collected")
