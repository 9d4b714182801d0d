"""The registry family's records (Dokku's `registry:*`): where an app's image is pushed on release,
and the credentials the engine pushes with.

Properties (records/properties.py, family `registry`): `server` (a registry host, `HOST[:PORT]`;
docker.io or hub.docker.com mean Docker Hub, the engine's default, computed as ""),
`image-repo` (per app only, default `dokku/APP`), `image-repo-template` (`{{ .AppName }}` stands
for the app; Dokku's Go template, of which nothing else is understood), `push-on-release`
(true/false) and `push-extra-tags` (comma-separated tags pushed beside the release's), and the
app's `tag-version`: the number of its last pushed tag, which no command sets.

Credentials are kept per server in REGISTRY_AUTH (JSON, mode 0600): an app's own in its folder,
the global ones in the root. An app pushes with its own for the server, else the global ones (a
tenant's app with its own only: ops/registry.py). A repository names no host: the server does,
so the credentials found for the server are the ones the engine sends to it.
"""

import json
import re
from typing import Optional

from minidokku.errors import ValidationError
from minidokku.records import names, properties
from minidokku.records.properties import Setting
from minidokku.state import Store

FAMILY = "registry"
REGISTRY_AUTH = "registry-auth.json"
PUSHED = "registry-pushed.json"  # image id -> `SERVER/REPO@DIGEST` it was last pushed as
KEEP_PUSHED = 50
DOCKER_HUB = "docker.io"
DOCKER_HUB_NAMES = ("docker.io", "hub.docker.com", "docker.com", "index.docker.io")
APP_NAME_FIELD = re.compile(r"\{\{\s*\.AppName\s*\}\}")

# Docker's reference grammar (distribution/reference): a host, lowercase path components, a tag.
_HOST = re.compile(
    r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"(?::[0-9]{1,5})?"
)
_REPOSITORY = re.compile(rf"{names.PATH_COMPONENT}(?:/{names.PATH_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
MAX_REPOSITORY = 255
_FIELDS = ("username", "password")
# what a user name and a password may hold: they travel in a JSON header, but a control
# character in one is a pasting mistake, not a credential
_CREDENTIAL = re.compile(r"[^\x00-\x1f\x7f]{1,1024}")


def _server(value: str) -> str:
    host = value.removesuffix("/")
    _name, _colon, port = host.partition(":")
    if not _HOST.fullmatch(host) or (port and not 0 < int(port) < 65536):
        raise ValidationError(f"server must be a registry host, HOST or HOST:PORT, not {value[:80]!r}")
    return value


def check_repository(value: str, what: str = "image-repo") -> str:
    """An image repository without a host: the server says where it goes (and whose credentials)."""
    if len(value) > MAX_REPOSITORY or not _REPOSITORY.fullmatch(value):
        raise ValidationError(
            f"{what} must be an image repository such as my-team/catmeow (lowercase letters, digits, "
            f"and . _ - between them, parts joined by /), not {value[:80]!r}"
        )
    if reference_host(value):
        raise ValidationError(f"{what} must not start with a registry host ({value.split('/')[0]!r}): set the server")
    return value


def _template(value: str) -> str:
    leftover = APP_NAME_FIELD.sub("", value)
    if "{{" in leftover or "}}" in leftover:
        raise ValidationError("image-repo-template understands only {{ .AppName }}")
    for app in ("a" * names.APP_MAX_LENGTH, "localhost"):  # the longest name; one that is a host
        check_repository(render(value, app), "image-repo-template, rendered,")
    return value


def _boolean(value: str) -> str:
    if value not in ("true", "false"):
        raise ValidationError(f"push-on-release is true or false, not {value[:40]!r}")
    return value


def _tags(value: str) -> str:
    for tag in value.split(","):
        if not _TAG.fullmatch(tag):
            raise ValidationError(
                f"push-extra-tags is a comma-separated list of image tags (letters, digits, _ . -), "
                f"and {tag[:80]!r} is none"
            )
        if tag.isdigit():
            raise ValidationError(f"push-extra-tags: {tag} is a number, as the counted tags are (tag-version)")
    return value


SERVER = Setting(FAMILY, "server", "", _server)
IMAGE_REPO = Setting(FAMILY, "image-repo", "", check_repository)  # per app only
IMAGE_REPO_TEMPLATE = Setting(FAMILY, "image-repo-template", "", _template)
PUSH_ON_RELEASE = Setting(FAMILY, "push-on-release", "false", _boolean)
PUSH_EXTRA_TAGS = Setting(FAMILY, "push-extra-tags", "", _tags)
SETTINGS = (IMAGE_REPO, IMAGE_REPO_TEMPLATE, PUSH_EXTRA_TAGS, PUSH_ON_RELEASE, SERVER)
GLOBAL_SETTINGS = (IMAGE_REPO_TEMPLATE, PUSH_EXTRA_TAGS, PUSH_ON_RELEASE, SERVER)
TAG_VERSION = "tag-version"


def reference_host(reference: str) -> str:
    """The registry host an image name is on, "" for Docker Hub: by Docker's rule, a first part
    with a `.`, a `:` or an uppercase letter, or `localhost`, is a host."""
    first, slash, _rest = reference.partition("/")
    is_host = "." in first or ":" in first or first == "localhost" or first != first.lower()
    return first if slash and is_host else ""


def render(template: str, app: str) -> str:
    return APP_NAME_FIELD.sub(app, template).strip()


def server_name(server: str) -> str:
    """The name credentials are kept under: lowercase (a host's name is), no trailing `/`, Docker
    Hub's names as docker.io."""
    server = server.strip().removesuffix("/").lower()
    return DOCKER_HUB if server in DOCKER_HUB_NAMES else server


def computed_server(store: Store, app: str) -> str:
    """`HOST/` the app's image goes to, "" for Docker Hub (the engine's default), as Dokku."""
    server = server_name(properties.computed_value(store, app, SERVER))
    return "" if server == DOCKER_HUB else f"{server}/" if server else ""


def computed_template(store: Store, app: str) -> str:
    return properties.computed_value(store, app, IMAGE_REPO_TEMPLATE)


def computed_image_repo(store: Store, app: str, default: str) -> str:
    """The app's own image-repo, else its template rendered, else default (`dokku/APP`)."""
    own = properties.own_value(store, app, IMAGE_REPO)
    if own:
        return own
    template = computed_template(store, app)
    return render(template, app) if template else default


def pushes_on_release(store: Store, app: str, own_only: bool = False) -> bool:
    """own_only: the app's own value counts, not the global one."""
    if own_only:
        return properties.own_value(store, app, PUSH_ON_RELEASE) == "true"
    return properties.computed_value(store, app, PUSH_ON_RELEASE) == "true"


def extra_tags(store: Store, app: str) -> list[str]:
    value = properties.computed_value(store, app, PUSH_EXTRA_TAGS)
    return [tag for tag in value.split(",") if tag]


def tag_version(store: Store, app: str) -> int:
    """The number of the app's last pushed tag (0: none yet)."""
    value = properties.get(store, app, FAMILY, TAG_VERSION, "0")
    return int(value) if names.is_whole_number(value) else 0


def set_tag_version(store: Store, app: str, version: int) -> None:
    properties.put(store, app, FAMILY, TAG_VERSION, str(version))


def forget_own_repository(store: Store, app: str) -> None:
    """Drops the app's image-repo and tag count (a clone's copies of its original's)."""
    for key in (IMAGE_REPO.key, TAG_VERSION):
        if properties.is_set(store, app, FAMILY, key):
            properties.put(store, app, FAMILY, key, None)


def pushed_reference(store: Store, app: str, image_id: str) -> Optional[str]:
    """Where the image was last pushed for the app (`SERVER/REPO@DIGEST`), None if never."""
    found = _read_pushed(store, app).get(image_id)
    return found if isinstance(found, str) else None


def remember_push(store: Store, app: str, image_id: str, reference: str) -> None:
    """Notes where the image went, for the deploys that run it again (a config change, a
    rollback): the last KEEP_PUSHED images, as releases keep theirs."""
    entries = _read_pushed(store, app)
    entries.pop(image_id, None)
    entries[image_id] = reference
    kept = dict(list(entries.items())[-KEEP_PUSHED:])
    store.write(app, PUSHED, json.dumps(kept, indent=2) + "\n")


def _read_pushed(store: Store, app: str) -> dict:
    try:
        entries = json.loads(store.read(app, PUSHED) or "{}")
    except ValueError:
        return {}
    return entries if isinstance(entries, dict) else {}


def login(store: Store, app: Optional[str], server: str, username: str, password: str) -> None:
    """Keeps username and password for server, for app (None: for every app)."""
    for what, value in (("user name", username), ("password", password)):
        if not _CREDENTIAL.fullmatch(value):
            raise ValidationError(f"the {what} must be 1 to 1024 characters, none a control character")
    entries = _read(store, app)
    entries[server_name(server)] = {"username": username, "password": password}
    _write(store, app, entries)


def logout(store: Store, app: Optional[str], server: str) -> bool:
    """Forgets the credentials for server, of app (None: the global ones); False: there were none."""
    entries = _read(store, app)
    if entries.pop(server_name(server), None) is None:
        return False
    _write(store, app, entries)
    return True


def ever_logged_in(store: Store, app: str) -> bool:
    """Whether the app was ever given credentials (Dokku's per-app docker config folder exists)."""
    return store.read(app, REGISTRY_AUTH) is not None


def credentials(store: Store, app: str, server: str, own_only: bool = False) -> Optional[tuple[str, str]]:
    """(username, password) the app uses with server: its own, else (but with own_only) the
    global ones."""
    name = server_name(server) or DOCKER_HUB
    for owner in (app,) if own_only else (app, None):
        entry = _read(store, owner).get(name)
        if entry:
            return entry["username"], entry["password"]
    return None


def _read(store: Store, app: Optional[str]) -> dict[str, dict[str, str]]:
    text = store.read(app, REGISTRY_AUTH)
    if not text:
        return {}
    try:
        entries = json.loads(text)
    except ValueError:
        entries = None
    if not isinstance(entries, dict):
        raise ValidationError(f"{store.path(app, REGISTRY_AUTH)} is not a JSON object: log in again")
    return {
        server: {"username": entry["username"], "password": entry["password"]}
        for server, entry in entries.items()
        if isinstance(entry, dict) and all(isinstance(entry.get(key), str) and entry[key] for key in _FIELDS)
    }


def _write(store: Store, app: Optional[str], entries: dict[str, dict[str, str]]) -> None:
    store.write(app, REGISTRY_AUTH, json.dumps(entries, indent=2, sort_keys=True) + "\n", mode=0o600)
