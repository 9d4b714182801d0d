"""The PostgreSQL service image: `minidokku/postgres:VERSION`, pulled where a registry answers,
else built here from Debian's package.

A database must be creatable on a machine that reaches only Debian's mirror, PyPI and npm (no
image registry), so when `postgres:VERSION` cannot be pulled the image is made from the stack
image: a container installs Debian's `postgresql-15` (bookworm ships no other major version) with
the build docker-options (the network and CA bundle its apt needs), gets an entrypoint that keeps
the official image's contract (POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB, PGDATA), and is
committed. Either way the caller runs the same image reference with the same environment.
"""

import re

from minidokku.build import tarball
from minidokku.engine.client import Engine
from minidokku.errors import EngineError, EngineNotFound, MinidokkuError, ValidationError
from minidokku.output import Output
from minidokku.records.docker_options import DockerOptions
from minidokku.settings import STACK_REPOSITORY

REPOSITORY = "minidokku/postgres"
OFFICIAL_REPOSITORY = "postgres"
DEBIAN_VERSION = "15"  # the only PostgreSQL major version Debian bookworm ships
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")  # a Docker tag
PGDATA = "/var/lib/postgresql/data"
ENTRYPOINT_PATH = "/usr/local/bin/postgres-entrypoint"

# Debian's postinst would make a cluster of its own; it is switched off before the server package
# is installed, so the one cluster is the entrypoint's, in PGDATA, on the caller's volume.
INSTALL_SCRIPT = f"""set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends postgresql-common
sed -ri 's/^#?(create_main_cluster) .*$/\\1 = false/' /etc/postgresql-common/createcluster.conf
apt-get install -y --no-install-recommends postgresql-{DEBIAN_VERSION}
apt-get clean
rm -rf /var/lib/apt/lists/*
"""

ENTRYPOINT = """#!/bin/sh
# minidokku's PostgreSQL entrypoint, for its image built from Debian's package. It keeps the
# official postgres image's contract (POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB, PGDATA), so a
# service behaves the same on either image. The password never appears on a command line.
set -eu

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
    exec "$@"  # psql, pg_dump, a shell: as given
fi
shift

if [ "$(id -u)" = 0 ]; then
    # a fresh named volume belongs to root: hand it and the socket folder to postgres, then drop to it
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" postgres "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "error: the database is not initialised and POSTGRES_PASSWORD is not set" >&2
        exit 1
    fi
    user="${POSTGRES_USER:-postgres}"
    # the password reaches initdb through its stdin (a here-document), never through its argv
    initdb -D "$PGDATA" --username="$user" --pwfile=/dev/stdin --auth-local=trust --auth-host=scram-sha-256 <<PASSWORD
$POSTGRES_PASSWORD
PASSWORD
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    database="${POSTGRES_DB:-$user}"
    if [ "$database" != postgres ]; then
        # on the unix socket only, so no client meets the database half made
        pg_ctl -D "$PGDATA" --wait --options="-c listen_addresses=''" start
        createdb --username="$user" -- "$database"
        pg_ctl -D "$PGDATA" --wait --mode=fast stop
    fi
fi
exec postgres -D "$PGDATA" "$@"
"""


class PostgresImageError(MinidokkuError):
    """The PostgreSQL image could not be made."""


def image_reference(version: str) -> str:
    return f"{REPOSITORY}:{version}"


def ensure_image(engine: Engine, out: Output, version: str, build_options: DockerOptions) -> str:
    """Returns the image reference to run PostgreSQL `version` from, making it when missing."""
    if not VERSION_PATTERN.match(version):
        raise ValidationError(f"invalid PostgreSQL version {version!r}: use a Docker tag such as 15 or 16.4")
    reference = image_reference(version)
    if engine.image_exists(reference):
        return reference
    official = f"{OFFICIAL_REPOSITORY}:{version}"
    try:
        engine.pull(official)
    except EngineError as error:
        _refuse_unless_buildable(version, error)
        _build(engine, out, version, build_options)
    else:
        engine.tag_image(official, REPOSITORY, version)
    return reference


def _refuse_unless_buildable(version: str, error: EngineError) -> None:
    if version == DEBIAN_VERSION:
        return
    reason = "no registry answers"
    if isinstance(error, EngineNotFound):
        reason = f"the registry has no {OFFICIAL_REPOSITORY}:{version}"
    raise ValidationError(
        f"postgres {version} cannot be pulled ({reason}) and Debian bookworm ships only {DEBIAN_VERSION}; "
        f"use --image-version {DEBIAN_VERSION}"
    )


def _build(engine: Engine, out: Output, version: str, build_options: DockerOptions) -> None:
    """Installs Debian's package in a stack container and commits that as the version's image."""
    stack = f"{STACK_REPOSITORY}:latest"
    if not engine.image_exists(stack):
        raise PostgresImageError(f"the stack image {stack} is missing; run `dokku stack:build` as root")
    out.step(f"Building the PostgreSQL {version} image from Debian's package (no registry answers)")
    config = {"Image": stack, "Cmd": ["/bin/sh", "-c", INSTALL_SCRIPT]}
    container = engine.create_container(build_options.apply(config))
    try:
        engine.put_archive(container, "/", tarball.pack({ENTRYPOINT_PATH.lstrip("/"): (ENTRYPOINT.encode(), 0o755)}))
        engine.start_container(container)
        for _stream, line in engine.container_logs(container, follow=True):
            out.info(line.rstrip())
        status = engine.wait_container(container)
        if status != 0:
            raise PostgresImageError(f"installing Debian's postgresql-{version} failed (exit {status})")
        engine.commit(container, REPOSITORY, version, _image_config(version))
    finally:
        engine.remove_container(container, force=True)


def _image_config(version: str) -> dict:
    """The committed image starts the entrypoint as root (it drops to postgres) and is stopped
    with SIGINT, PostgreSQL's fast shutdown, as the official image is."""
    return {
        "Entrypoint": [ENTRYPOINT_PATH],
        "Cmd": ["postgres"],
        "User": "root",
        "Env": [
            f"PATH=/usr/lib/postgresql/{version}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            f"PGDATA={PGDATA}",
            "LANG=C.UTF-8",
        ],
        "ExposedPorts": {"5432/tcp": {}},
        "StopSignal": "SIGINT",
    }
