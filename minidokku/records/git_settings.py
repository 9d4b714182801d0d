"""git:set's properties other than deploy-branch (which ops/push.py keeps, with the pushes it
decides), in APP/properties/git and, for the global ones, ROOT/properties/git:

- `keep-git-dir` (app or global, default false): `true` and the build gets the tree with a
  `.git` folder: the app's repository, its HEAD the commit being built (detached), its index
  that commit's files;
- `rev-env-var` (default GIT_REV): the config var a deploy of a commit sets to its sha (app
  or global; set to "" it sets none);
- `source-image`: the image git:from-image last deployed, recorded by it (never set by hand
  here) and cleared by any other deploy (records/app_properties.py).
"""

from typing import Optional

from minidokku.errors import ValidationError
from minidokku.records import envfile, properties
from minidokku.state import Store

FAMILY = "git"
KEEP_GIT_DIR = "keep-git-dir"
REV_ENV_VAR = "rev-env-var"
SOURCE_IMAGE = "source-image"
DEFAULT_REV_ENV_VAR = "GIT_REV"
BOOLEANS = ("true", "false")
SETTABLE = (KEEP_GIT_DIR, REV_ENV_VAR, SOURCE_IMAGE)  # what set_property takes


def set_property(store: Store, app: Optional[str], key: str, value: str) -> None:
    """`git:set APP|--global KEY [VALUE]` for KEY in SETTABLE (app None: the global value)."""
    if key == SOURCE_IMAGE:
        raise ValidationError(f"{SOURCE_IMAGE} is what git:from-image deployed; it is not set by hand")
    if key == KEEP_GIT_DIR and value not in ("", *BOOLEANS):
        raise ValidationError(f"{KEEP_GIT_DIR} is true or false (or empty for the default)")
    if key == REV_ENV_VAR and value:
        envfile.validate_key(value, REV_ENV_VAR)
    properties.put(store, app, FAMILY, key, value, keep_empty=key == REV_ENV_VAR)


def get(store: Store, app: Optional[str], key: str) -> str:
    return properties.get(store, app, FAMILY, key)


def keep_git_dir(store: Store, app: str) -> bool:
    return computed_keep_git_dir(store, app) == "true"


def computed_keep_git_dir(store: Store, app: str) -> str:
    return get(store, app, KEEP_GIT_DIR) or get(store, None, KEEP_GIT_DIR) or "false"


def rev_env_var(store: Store, app: str) -> str:
    """The config var a deploy of a commit sets to its sha; "" for none."""
    for scope in (app, None):
        if properties.is_set(store, scope, FAMILY, REV_ENV_VAR):
            return get(store, scope, REV_ENV_VAR)
    return DEFAULT_REV_ENV_VAR


def with_rev(store: Store, app: str, env: dict[str, str], sha: str) -> dict[str, str]:
    """env with the rev-env-var set to sha, as a deploy of commit sha gives it to the app."""
    name = rev_env_var(store, app)
    return {**env, name: sha} if name and sha else env


def source_image(store: Store, app: str) -> str:
    return get(store, app, SOURCE_IMAGE)


def record_source_image(store: Store, app: str, image: str) -> None:
    """What git:from-image deployed ("": the app's last deploy was not an image)."""
    properties.put(store, app, FAMILY, SOURCE_IMAGE, image)
