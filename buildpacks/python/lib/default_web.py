#!/usr/bin/env python3
"""The default `web` process of a built Python app (bin/release's default_process_types).

    python3 default_web.py BUILD_DIR

Prints a gunicorn command bound to 0.0.0.0:$PORT, or nothing. Only when gunicorn is installed in
the app's virtualenv, and then:
- Django (Django installed and a manage.py): `gunicorn PACKAGE.wsgi`, PACKAGE being the one folder
  beside manage.py that holds a wsgi.py; none or several: no default.
- otherwise, the one top-level module (BUILD_DIR/NAME.py) that assigns a module-level `app` (or
  else `application`): `gunicorn NAME:app`; none or several such modules: no default.
"""

import re
import sys
from pathlib import Path

VENV = Path(".heroku/venv")
BIND = "--bind 0.0.0.0:$PORT"
ASSIGNED = re.compile(r"^(app|application)\s*(?::[^=]*)?=(?!=)", re.MULTILINE)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: default_web.py BUILD_DIR", file=sys.stderr)
        return 2
    command = default_web(Path(argv[1]))
    if command:
        print(command)
    return 0


def default_web(build_dir: Path) -> str:
    if not (build_dir / VENV / "bin" / "gunicorn").exists():
        return ""
    if (build_dir / "manage.py").is_file() and installed(build_dir, "django"):
        packages = sorted(path.parent.name for path in build_dir.glob("*/wsgi.py"))
        return f"gunicorn {packages[0]}.wsgi {BIND}" if len(packages) == 1 else ""
    apps = {}
    for module in sorted(build_dir.glob("*.py")):
        names = set(ASSIGNED.findall(module.read_text(encoding="utf-8", errors="replace")))
        if names and module.stem.isidentifier():
            apps[module.stem] = "app" if "app" in names else "application"
    if len(apps) != 1:
        return ""
    ((module, variable),) = apps.items()
    return f"gunicorn {module}:{variable} {BIND}"


def installed(build_dir: Path, package: str) -> bool:
    return any((build_dir / VENV).glob(f"lib/python3*/site-packages/{package}/__init__.py"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
