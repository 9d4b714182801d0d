"""Storage entries and the apps' mounts of them (Dokku's storage plugin, docker-local): an entry
is a named host directory (or, from the legacy colon form, a host path or a Docker volume); a
mount puts an entry at a container path of an app's containers (the deploy and run phases, every
process type or one), from the app's next deploy or restart on.

    ROOT/.storage/NAME.json     an entry: Dokku's fields (name, scheduler, host_path, chown, mode,
                                reclaim_policy, schema_version) and created_by and
                                creator_fingerprint, the user key that created it (none: an
                                admin key or the host)
    ROOT/.storage/.lock         held while entries or mounts change
    APP/STORAGE_MOUNTS          the app's mounts, one JSON object a line (Dokku's attachment:
                                entry_name, container_path, phases, process_type, readonly)

An entry's default directory is STORAGE_ROOT/NAME: /var/lib/dokku/data/storage/NAME, as Dokku's,
for the default state root; ROOT/.storage-data/NAME for any other root (a test's), so that a
test never touches the host's. A tenant's app (access/rules.is_tenant_app) gets only entries at
their default directory, never a custom path or a Docker volume, whoever mounted them, and a
user key's entry goes only to apps granted to that key (`binds` leaves the others out, saying
so); a directory that became a link is never mounted.
"""

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from minidokku.access import rules
from minidokku.errors import NotFound, ValidationError
from minidokku.output import Output
from minidokku.records import procfile
from minidokku.state import DEFAULT_ROOT, Store, file_lock

DEFAULT_STORAGE_ROOT = Path("/var/lib/dokku/data/storage")  # Dokku's, for the default state root
TEST_STORAGE_ROOT = ".storage-data"  # under any other state root
REGISTRY = ".storage"
MOUNTS_FILE = "STORAGE_MOUNTS"
SCHEDULER = "docker-local"
SCHEMA_VERSION = 1
LEGACY_PREFIX = "legacy-"
NAME_PATTERN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
NAME_MAX_LENGTH = 45  # Dokku's (a Helm release name's budget)
VOLUME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")  # a Docker volume's name, as Docker tells it from a path
MODE_PATTERN = re.compile(r"[0-7]{3,4}")
# Dokku's --chown presets: the uid (and gid) the processes of each kind of image run as. Our
# stack's containers run as root (its image names no user), so `root` is our default.
CHOWN_PRESETS = {"herokuish": 32767, "heroku": 1000, "paketo": 2000, "root": 0}
DEFAULT_CHOWN = "root"
NO_CHOWN = "false"
MAX_UID = 65535
RECLAIM_POLICIES = ("Retain", "Delete")
PHASES = ("deploy", "run")
DEFAULT_PROCESS_TYPE = "_default_"
CONTAINER_PATH_PATTERN = re.compile(r"/[A-Za-z0-9._@+/-]*")  # no `:` or `,` (a bind's separators), no spaces
CONTAINER_PATH_MAX_LENGTH = 255
READ_ONLY = "ro"


@dataclass
class Entry:
    name: str
    host_path: str
    chown: str = ""
    mode: str = ""
    reclaim_policy: str = ""
    created_by: str = ""  # the user key that created it; "" for an admin key or the host
    creator_fingerprint: str = ""  # that key's fingerprint: a new key of the same name is not it

    def as_json(self) -> dict:
        """Dokku's fields (empty ones left out, as Dokku's omitempty), plus created_by."""
        fields = {"name": self.name, "scheduler": SCHEDULER, **asdict(self), "schema_version": SCHEMA_VERSION}
        return {key: value for key, value in fields.items() if value != ""}


@dataclass
class Mount:
    entry_name: str
    container_path: str
    phases: list[str] = field(default_factory=lambda: list(PHASES))
    process_type: str = DEFAULT_PROCESS_TYPE
    readonly: bool = False

    def as_json(self) -> dict:
        fields = asdict(self)
        if not self.readonly:
            del fields["readonly"]
        return fields

    def applies_to(self, phase: str, process_type: Optional[str]) -> bool:
        return phase in self.phases and self.process_type in (DEFAULT_PROCESS_TYPE, process_type)

    def bind(self, host: str) -> str:
        return f"{host}:{self.container_path}" + (f":{READ_ONLY}" if self.readonly else "")


# -- where -------------------------------------------------------------------------------------
def storage_root(store: Store) -> Path:
    """Where entries' default directories are (see the module's docstring)."""
    return DEFAULT_STORAGE_ROOT if store.root == Path(DEFAULT_ROOT) else store.root / TEST_STORAGE_ROOT


def default_path(store: Store, name: str) -> str:
    return str(storage_root(store) / name)


def at_default_path(store: Store, entry: Entry) -> bool:
    return entry.host_path == default_path(store, entry.name)


def lock(store: Store):
    """Held while entries or mounts change: an entry is never destroyed while being mounted."""
    return file_lock(store.path(None, f"{REGISTRY}/.lock"))


# -- validation --------------------------------------------------------------------------------
def validate_name(name: str, legacy_allowed: bool = False) -> str:
    if not NAME_PATTERN.fullmatch(name) or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"storage entry name {name[:60]!r} must be a DNS-1123 label (lowercase letters, digits, and dashes; "
            f"cannot start or end with a dash), at most {NAME_MAX_LENGTH} characters"
        )
    if not legacy_allowed and name.startswith(LEGACY_PREFIX):
        raise ValidationError(f"storage entry name {name!r} must not start with reserved prefix {LEGACY_PREFIX!r}")
    return name


def validate_container_path(path: str) -> str:
    """An absolute path in the container: no `..`, not `/`, nothing a bind would split on."""
    parts = _parts(path)
    if not CONTAINER_PATH_PATTERN.fullmatch(path) or len(path) > CONTAINER_PATH_MAX_LENGTH or not parts:
        raise ValidationError(
            f"container path {path[:80]!r} must be an absolute path other than / (letters, digits, . _ @ + - /), "
            "without .."
        )
    return "/" + "/".join(parts)


def validate_host_path(path: str) -> str:
    """A custom PATH (admin keys): an absolute host path without `..`, or a Docker volume's name."""
    if VOLUME_PATTERN.fullmatch(path):
        return path
    parts = _parts(path)
    if not path.startswith("/") or ":" in path or not parts:
        raise ValidationError(f"host path {path[:80]!r} must be an absolute path other than / without .., or a volume")
    return "/" + "/".join(parts)


def _parts(path: str) -> list[str]:
    """The names of an absolute path, [] for `/`, a relative path or one with `..`."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    return parts if path.startswith("/") and ".." not in parts else []


def validate_process_type(process_type: str) -> str:
    return process_type if process_type == DEFAULT_PROCESS_TYPE else procfile.validate_process_type(process_type)


def validate_phases(phases: Iterable[str]) -> list[str]:
    chosen = [phase.strip() for given in phases for phase in given.split(",") if phase.strip()]
    unknown = [phase for phase in chosen if phase not in PHASES]
    if unknown:
        raise ValidationError(f"attachment phase {unknown[0][:40]!r} is not supported (must be 'deploy' or 'run')")
    return list(dict.fromkeys(chosen)) or list(PHASES)


def chown_uid(chown: str) -> Optional[int]:
    """The uid (and gid) a --chown value gives the directory; None for `false` or no value."""
    if chown in ("", NO_CHOWN):
        return None
    if chown in CHOWN_PRESETS:
        return CHOWN_PRESETS[chown]
    if chown.isascii() and chown.isdigit() and len(chown) <= 5 and int(chown) <= MAX_UID:
        return int(chown)
    raise ValidationError("Unsupported chown permissions: use herokuish, heroku, paketo, root, false or a uid 0-65535")


def normalize_mode(mode: str) -> str:
    if not mode:
        return ""
    if not MODE_PATTERN.fullmatch(mode):
        raise ValidationError(
            f"Unsupported directory mode {mode[:20]!r}. Value must be a 3 or 4 digit octal mode, such as 0755"
        )
    return mode.zfill(4)


def validate_reclaim_policy(policy: str) -> str:
    if policy and policy not in RECLAIM_POLICIES:
        raise ValidationError(f"unsupported reclaim policy {policy[:40]!r}: Retain or Delete")
    return policy


# -- entries -----------------------------------------------------------------------------------
def _entry_file(name: str) -> str:
    return f"{REGISTRY}/{validate_name(name, legacy_allowed=True)}.json"


def find(store: Store, name: str) -> Optional[Entry]:
    text = store.read(None, _entry_file(name))
    if text is None:
        return None
    fields = json.loads(text)
    return Entry(**{key: fields.get(key, "") for key in Entry.__dataclass_fields__})


def load(store: Store, name: str) -> Entry:
    entry = find(store, name)
    if entry is None:
        raise NotFound(f'storage entry "{name}" does not exist')
    return entry


def save(store: Store, entry: Entry) -> None:
    store.write(None, _entry_file(entry.name), json.dumps(entry.as_json(), indent=2) + "\n", mode=0o600)


def delete(store: Store, name: str) -> None:
    store.remove(None, _entry_file(name))


def entries(store: Store) -> list[Entry]:
    folder = store.path(None, REGISTRY)
    found = sorted(path.stem for path in folder.glob("*.json")) if folder.is_dir() else []
    return [load(store, name) for name in found]


def legacy_name(host: str) -> str:
    """Dokku's deterministic name of the entry a colon-form mount of host makes."""
    digest = hashlib.sha1((host if host.startswith("/") else f"vol:{host}").encode()).hexdigest()
    return LEGACY_PREFIX + digest[:10]


def user_entry_at(store: Store, host: str) -> Optional[Entry]:
    """The user key's entry whose directory host is or is inside (its contents are the tenant's:
    a link it planted there would point a bind anywhere), if any."""
    inside = Path(host)
    return next(
        (
            e
            for e in entries(store)
            if e.created_by and (inside == Path(e.host_path) or Path(e.host_path) in inside.parents)
        ),
        None,
    )


# -- mounts ------------------------------------------------------------------------------------
def mounts(store: Store, app: str) -> list[Mount]:
    return [Mount(**json.loads(line)) for line in store.read_lines(app, MOUNTS_FILE)]


def save_mounts(store: Store, app: str, given: list[Mount]) -> None:
    store.write_lines(app, MOUNTS_FILE, [json.dumps(mount.as_json(), separators=(",", ":")) for mount in given])


def apps_using(store: Store, name: str) -> list[str]:
    return [app for app in store.list_apps() if any(mount.entry_name == name for mount in mounts(store, app))]


def binds(store: Store, app: str, phase: str, process_type: Optional[str], out: Optional[Output] = None) -> list[str]:
    """The `-v` binds of the app's mounts for a container of phase and process_type (None: only
    the mounts of every process type). Those left_out are said on out."""
    found = []
    for mount in mounts(store, app):
        if not mount.applies_to(phase, process_type):
            continue
        entry = load(store, mount.entry_name)
        reason = left_out(store, app, entry)
        if reason:
            if out is not None:
                out.info(f"Not applied to {app}, {reason}: storage {entry.name} ({entry.host_path})")
            continue
        if at_default_path(store, entry):
            check_directory(entry.host_path, entry.name)
        found.append(mount.bind(entry.host_path))
    return found


def left_out(store: Store, app: str, entry: Entry) -> str:
    """Why the app's containers do not get the entry ("": they do): a tenant's app gets only
    entries at their default directory; a user key's entry goes only to apps granted to that key
    (a mount outlives no grant)."""
    if entry.created_by and entry.created_by not in rules.granted(store, app):
        return f"an app not granted to {entry.created_by}, whose entry it is"
    if rules.is_tenant_app(store, app) and not at_default_path(store, entry):
        return "a user key's app"
    return ""


def check_directory(path: str, name: str) -> None:
    """A default directory is mounted only while it is a directory: never a link (that one
    planted would hand a container whatever it points to), nor made anew by Docker."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ValidationError(
            f"storage entry {name}'s directory {path} is missing; `dokku storage:create {name}` makes it again"
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise ValidationError(f"storage entry {name}'s {path} is not a directory (a link is never mounted)")
