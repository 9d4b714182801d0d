"""The python buildpack's helpers (buildpacks/python/lib): lock files to pinned requirements, the
Python version check and the default web process (and bin/release, which asks for it). The
lock-file helper runs as the script the build runs, with this interpreter (3.11+: tomllib), on
lock files written here in each tool's format; the other two are also loaded as modules so their
rules are checked without a process each."""

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "buildpacks" / "python" / "lib"

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="the helpers need tomllib (Python 3.11)")


def load(name: str):
    sys.dont_write_bytecode, before = True, sys.dont_write_bytecode  # keep buildpacks/ free of __pycache__
    try:
        spec = importlib.util.spec_from_file_location(f"python_buildpack_{name}", LIB / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.dont_write_bytecode = before


def run_helper(script: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-B", str(LIB / script), *map(str, args)], capture_output=True, text=True, check=False
    )


def locked(path: Path, text: str) -> list[str]:
    path.write_text(textwrap.dedent(text))
    result = run_helper("locked_requirements.py", path)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def refused(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text))
    result = run_helper("locked_requirements.py", path)
    assert result.returncode == 1 and result.stdout == ""
    return result.stderr


# --- lock files ------------------------------------------------------------------------------------


UV_LOCK = """\
    version = 1
    revision = 2
    requires-python = ">=3.11"

    [[package]]
    name = "web-app"
    version = "0.1.0"
    source = { virtual = "." }
    dependencies = [
        { name = "click" },
        { name = "colorama", marker = "sys_platform == 'win32'" },
        { name = "httpx", extra = ["http2"] },
        { name = "numpy", version = "1.26.4", marker = "python_full_version < '3.12'" },
        { name = "numpy", version = "2.0.0", marker = "python_full_version >= '3.12'" },
        { name = "python-dateutil" },
        { name = "rich", marker = "python_version < '3.12'" },
        { name = "tinylib" },
    ]

    [package.dev-dependencies]
    dev = [{ name = "pytest" }]

    [package.metadata]
    requires-dist = [{ name = "click" }]

    [[package]]
    name = "click"
    version = "8.1.7"
    source = { registry = "https://pypi.org/simple" }
    dependencies = [{ name = "colorama", marker = "platform_system == 'Windows'" }]
    wheels = [{ url = "https://files.pythonhosted.org/click-8.1.7-py3-none-any.whl", hash = "sha256:ae74" }]

    [[package]]
    name = "colorama"
    version = "0.4.6"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "commonmark"
    version = "0.9.1"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "h2"
    version = "4.1.0"
    source = { registry = "https://pypi.org/simple" }
    dependencies = [{ name = "hpack" }]

    [[package]]
    name = "hpack"
    version = "4.0.0"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "httpx"
    version = "0.27.0"
    source = { registry = "https://pypi.org/simple" }

    [package.optional-dependencies]
    http2 = [{ name = "h2" }]
    socks = [{ name = "socksio" }]

    [[package]]
    name = "iniconfig"
    version = "2.0.0"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "numpy"
    version = "1.26.4"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "numpy"
    version = "2.0.0"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "pygments"
    version = "2.18.0"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "pytest"
    version = "8.2.0"
    source = { registry = "https://pypi.org/simple" }
    dependencies = [{ name = "colorama", marker = "sys_platform == 'win32'" }, { name = "iniconfig" }]

    [[package]]
    name = "python-dateutil"
    version = "2.8.2"
    source = { registry = "https://pypi.org/simple" }
    dependencies = [{ name = "six" }]

    [[package]]
    name = "rich"
    version = "13.7.1"
    source = { registry = "https://pypi.org/simple" }
    dependencies = [
        { name = "commonmark", marker = "implementation_name == 'cpython'" },
        { name = "pygments" },
    ]

    [[package]]
    name = "six"
    version = "1.16.0"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "socksio"
    version = "1.0.0"
    source = { registry = "https://pypi.org/simple" }

    [[package]]
    name = "tinylib"
    version = "0.3.0"
    source = { git = "https://github.com/example/tinylib?rev=main#0123abcd" }
    """


def test_uv_lock_gives_the_main_dependencies_pinned_with_the_markers_of_every_path(tmp_path):
    assert locked(tmp_path / "uv.lock", UV_LOCK) == [
        "click==8.1.7",
        "colorama==0.4.6 ; (platform_system == 'Windows') or (sys_platform == 'win32')",
        "commonmark==0.9.1 ; (implementation_name == 'cpython') and (python_version < '3.12')",
        "h2==4.1.0",
        "hpack==4.0.0",
        "httpx==0.27.0",
        "numpy==1.26.4 ; python_full_version < '3.12'",
        "numpy==2.0.0 ; python_full_version >= '3.12'",
        "pygments==2.18.0 ; python_version < '3.12'",
        "python-dateutil==2.8.2",
        "rich==13.7.1 ; python_version < '3.12'",
        "six==1.16.0",
        "tinylib @ git+https://github.com/example/tinylib@0123abcd",
    ], "the dev group (pytest, iniconfig) and httpx's unused extra (socksio) are left out"


def test_uv_lock_without_the_project_itself_is_refused(tmp_path):
    error = refused(tmp_path / "uv.lock", 'version = 1\n[[package]]\nname = "six"\nversion = "1.16.0"\n')
    assert error == ' !     uv.lock has no entry for the project itself (source = { virtual = "." })\n'


def test_poetry_2_lock_gives_the_main_group_only(tmp_path):
    lines = locked(
        tmp_path / "poetry.lock",
        """\
        # This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.

        [[package]]
        name = "colorama"
        version = "0.4.6"
        description = "Cross-platform colored terminal text."
        optional = false
        python-versions = ">=2.7"
        groups = ["main", "dev"]
        markers = {main = "sys_platform == \\"win32\\"", dev = "platform_system == \\"Windows\\""}
        files = [{file = "colorama-0.4.6-py2.py3-none-any.whl", hash = "sha256:4f1d"}]

        [[package]]
        name = "iniconfig"
        version = "2.0.0"
        optional = false
        python-versions = ">=3.7"
        groups = ["dev"]
        files = []

        [[package]]
        name = "itsdangerous"
        version = "2.1.2"
        optional = false
        python-versions = ">=3.7"
        groups = ["main"]
        files = []

        [[package]]
        name = "pysocks"
        version = "1.7.1"
        optional = true
        python-versions = ">=2.7"
        groups = ["main"]
        markers = "extra == \\"socks\\""
        files = []

        [[package]]
        name = "shared"
        version = "0.1.0"
        optional = false
        python-versions = "*"
        groups = ["main"]
        files = []
        develop = true

        [package.source]
        type = "directory"
        url = "libs/shared"

        [[package]]
        name = "tinylib"
        version = "0.3.0"
        optional = false
        python-versions = "*"
        groups = ["main"]
        files = []

        [package.source]
        type = "git"
        url = "https://github.com/example/tinylib.git"
        reference = "main"
        resolved_reference = "0123abcd"

        [metadata]
        lock-version = "2.1"
        python-versions = "^3.11"
        content-hash = "761997b8e0d2f7c992037394ea0f50eb3a5f14442ab1c1b062b3bd7ecb842ac0"
        """,
    )
    assert lines == [
        f"-e {tmp_path / 'libs' / 'shared'}",
        'colorama==0.4.6 ; sys_platform == "win32"',
        "itsdangerous==2.1.2",
        "tinylib @ git+https://github.com/example/tinylib.git@0123abcd",
    ]


def test_poetry_lock_without_groups_is_walked_from_the_tool_poetry_dependencies(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.poetry]
            package-mode = false

            [tool.poetry.dependencies]
            python = "^3.11"
            python-dateutil = "2.8.2"
            colorama = { version = "*", markers = "sys_platform == 'win32'" }
            requests = { version = "^2.31", extras = ["socks"] }

            [tool.poetry.group.dev.dependencies]
            iniconfig = "*"
            """
        )
    )
    lines = locked(
        tmp_path / "poetry.lock",
        """\
        # This file is automatically @generated by Poetry 1.8.5 and should not be changed by hand.

        [[package]]
        name = "chardet"
        version = "5.2.0"
        optional = true
        python-versions = ">=3.7"
        files = []

        [[package]]
        name = "colorama"
        version = "0.4.6"
        optional = false
        python-versions = ">=2.7"
        files = []

        [[package]]
        name = "iniconfig"
        version = "2.0.0"
        optional = false
        python-versions = ">=3.7"
        files = []

        [[package]]
        name = "PySocks"
        version = "1.7.1"
        optional = false
        python-versions = ">=2.7"
        files = []

        [[package]]
        name = "python-dateutil"
        version = "2.8.2"
        optional = false
        python-versions = ">=2.7"
        files = []

        [package.dependencies]
        six = ">=1.5"

        [[package]]
        name = "requests"
        version = "2.31.0"
        optional = false
        python-versions = ">=3.7"
        files = []

        [package.dependencies]
        chardet = {version = ">=3.0.2,<6", optional = true}
        PySocks = {version = ">=1.5.6,!=1.5.7", optional = true}
        urllib3 = ">=1.21.1,<3"

        [package.extras]
        socks = ["PySocks (>=1.5.6,!=1.5.7)"]
        use-chardet-on-py3 = ["chardet (>=3.0.2,<6)"]

        [[package]]
        name = "six"
        version = "1.16.0"
        optional = false
        python-versions = ">=2.7"
        files = []

        [[package]]
        name = "urllib3"
        version = "2.0.7"
        optional = false
        python-versions = ">=3.7"
        files = []

        [metadata]
        lock-version = "2.0"
        python-versions = "^3.11"
        content-hash = "1220db24e8007319cf412f167418766fb617ab6a417414729f98a87f970b2387"
        """,
    )
    assert lines == [
        "colorama==0.4.6 ; sys_platform == 'win32'",
        "PySocks==1.7.1",
        "python-dateutil==2.8.2",
        "requests==2.31.0",
        "six==1.16.0",
        "urllib3==2.0.7",
    ], "iniconfig is dev only; chardet belongs to an extra nobody asked for"


def test_pipfile_lock_gives_the_default_section_pinned(tmp_path):
    lines = locked(
        tmp_path / "Pipfile.lock",
        """\
        {
            "_meta": {
                "hash": {"sha256": "75032cf3"},
                "pipfile-spec": 6,
                "requires": {"python_version": "3.11"},
                "sources": [
                    {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true},
                    {"name": "ours", "url": "https://pypi.example.com/simple/", "verify_ssl": true}
                ]
            },
            "default": {
                "colorama": {"markers": "sys_platform == 'win32'", "version": "*"},
                "local": {"editable": true, "path": "./libs/local"},
                "markupsafe": {
                    "hashes": ["sha256:05fb2117", "sha256:0a4e4a1a"],
                    "index": "pypi",
                    "markers": "python_version >= '3.7'",
                    "version": "==2.1.3"
                },
                "requests": {"extras": ["socks"], "index": "pypi", "version": "==2.31.0"},
                "tinylib": {"git": "https://github.com/example/tinylib.git", "ref": "0123abcd"}
            },
            "develop": {
                "iniconfig": {"index": "pypi", "markers": "python_version >= '3.10'", "version": "==2.3.1"}
            }
        }
        """,
    )
    assert lines == [
        "--extra-index-url https://pypi.example.com/simple",
        f"-e {tmp_path / 'libs' / 'local'}",
        "colorama ; sys_platform == 'win32'",
        "markupsafe==2.1.3 ; python_version >= '3.7'",
        "requests[socks]==2.31.0",
        "tinylib @ git+https://github.com/example/tinylib.git@0123abcd",
    ]


def test_pyproject_without_a_lock_gives_its_declared_dependencies(tmp_path):
    lines = locked(
        tmp_path / "pyproject.toml",
        """\
        [build-system]
        requires = ["setuptools"]

        [project]
        name = "site"
        dependencies = ["django>=4.2,<4.3", "gunicorn ; sys_platform != 'win32'"]

        [dependency-groups]
        dev = ["pytest"]
        """,
    )
    assert lines == ["django>=4.2,<4.3", "gunicorn ; sys_platform != 'win32'"]


def test_a_poetry_project_without_its_lock_is_refused_with_what_to_do(tmp_path):
    error = refused(tmp_path / "pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.11"\n')
    assert error == " !     a Poetry project needs its poetry.lock: run `poetry lock` and commit poetry.lock\n"


# --- the Python version --------------------------------------------------------------------------


python_version = load("python_version")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "Python 3.11.2"),
        ({".python-version": "3.11\n"}, "Python 3.11.2 (.python-version asks for 3.11)"),
        ({".python-version": "# pyenv\n\n3.11.2\n"}, "Python 3.11.2 (.python-version asks for 3.11.2)"),
        ({".python-version": "3.11.9"}, "Python 3.11.2 (.python-version asks for 3.11.9)"),
        ({"runtime.txt": "python-3.11.2\n"}, "Python 3.11.2 (runtime.txt asks for python-3.11.2)"),
        ({".python-version": "3.11", "runtime.txt": "python-3.9.1"}, "Python 3.11.2 (.python-version asks for 3.11)"),
    ],
)
def test_a_request_with_the_stacks_major_minor_uses_the_stacks_python(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert python_version.choose(tmp_path, "3.11.2") == expected


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            ".python-version",
            "3.9\n",
            ".python-version asks for Python 3.9, but this stack has only Python 3.11.2 "
            "(no other Python can be installed here): ask for 3.11",
        ),
        (
            "runtime.txt",
            "python-3.12.1",
            "runtime.txt asks for Python 3.12.1, but this stack has only Python 3.11.2 "
            "(no other Python can be installed here): ask for 3.11",
        ),
        (
            ".python-version",
            "latest",
            ".python-version: 'latest' is not a Python version (write for example 3.11 or 3.11.2)",
        ),
        (".python-version", "3", ".python-version: '3' is not a Python version (write for example 3.11 or 3.11.2)"),
    ],
)
def test_any_other_request_is_refused_in_one_line(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(python_version.VersionError) as refused_version:
        python_version.choose(tmp_path, "3.11.2")
    assert str(refused_version.value) == message


def test_the_version_script_fails_with_the_message_the_build_shows(tmp_path):
    (tmp_path / ".python-version").write_text("3.9\n")
    result = run_helper("python_version.py", tmp_path, "3.11.2")
    assert result.returncode == 1
    assert result.stderr.startswith(" !     .python-version asks for Python 3.9, but this stack has only Python 3.11.2")


# --- the default web process ---------------------------------------------------------------------


default_web = load("default_web")


def app_tree(root: Path, files: dict, packages=("gunicorn",)) -> Path:
    (root / ".heroku" / "venv" / "bin").mkdir(parents=True)
    site = root / ".heroku" / "venv" / "lib" / "python3.11" / "site-packages"
    for package in packages:
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
        if package == "gunicorn":
            (root / ".heroku" / "venv" / "bin" / "gunicorn").write_text("#!/bin/sh\n")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_django_with_gunicorn_serves_the_wsgi_module_beside_manage_py(tmp_path):
    root = app_tree(tmp_path, {"manage.py": "", "mysite/wsgi.py": "application = 1\n"}, ("gunicorn", "django"))
    assert default_web.default_web(root) == "gunicorn mysite.wsgi --bind 0.0.0.0:$PORT"


def test_django_with_two_wsgi_packages_gets_no_default(tmp_path):
    files = {"manage.py": "", "one/wsgi.py": "", "two/wsgi.py": ""}
    assert default_web.default_web(app_tree(tmp_path, files, ("gunicorn", "django"))) == ""


def test_the_one_module_assigning_app_is_served(tmp_path):
    files = {"app.py": "import flask\n\napp = flask.Flask(__name__)\n", "helpers.py": "x = 1\n"}
    assert default_web.default_web(app_tree(tmp_path, files)) == "gunicorn app:app --bind 0.0.0.0:$PORT"
    (tmp_path / "app.py").write_text("application: object = make()\nif app == 1:\n    pass\n")
    assert default_web.default_web(tmp_path) == "gunicorn app:application --bind 0.0.0.0:$PORT"


def test_two_modules_assigning_app_or_no_gunicorn_give_no_default(tmp_path):
    files = {"app.py": "app = make()\n", "wsgi.py": "from app import app\napplication = app\n"}
    assert default_web.default_web(app_tree(tmp_path / "two", files)) == ""
    assert default_web.default_web(app_tree(tmp_path / "bare", {"app.py": "app = make()\n"}, packages=())) == ""


def test_the_web_script_prints_the_command_for_bin_release(tmp_path):
    root = app_tree(tmp_path, {"main.py": "app = FastAPI()\n"})
    result = run_helper("default_web.py", root)
    assert (result.returncode, result.stdout) == (0, "gunicorn main:app --bind 0.0.0.0:$PORT\n")


def run_release(build_dir: Path, path: str) -> subprocess.CompletedProcess:
    release = LIB.parent / "bin" / "release"
    return subprocess.run(
        ["/bin/bash", str(release), str(build_dir)], capture_output=True, text=True, env={"PATH": path}, check=False
    )


def test_bin_release_starts_no_python_for_an_app_without_gunicorn(tmp_path):
    """No python3 on PATH: an app without gunicorn still gets its (empty) defaults."""
    no_python = tmp_path / "bin"
    no_python.mkdir()
    (no_python / "dirname").symlink_to("/usr/bin/dirname")
    bare = app_tree(tmp_path / "bare", {"app.py": "app = make()\n"}, packages=())
    result = run_release(bare, str(no_python))
    assert (result.returncode, result.stdout) == (0, "--- {}\n"), result.stderr
    served = app_tree(tmp_path / "served", {"app.py": "app = make()\n"})
    found = run_release(served, f"{Path(sys.executable).parent}:/usr/bin:/bin")
    assert found.stdout == "---\ndefault_process_types:\n  web: gunicorn app:app --bind 0.0.0.0:$PORT\n", found.stderr
