"""Config vars: an app's (APP/ENV), and the global ones (ROOT/ENV) that every app's containers
get (build, release, processes, run) under the app's own, which win (envfile.with_global).

Changing an app's config deploys the current image with the new config as a new release. The new
config is saved only once that release serves, so a change that breaks the app is not kept and
the running release is untouched. With restart=False (`--no-restart`), or before the first
deploy, the config is only saved. A change that changes nothing deploys nothing.

The global config is only saved, as in Dokku: no app is redeployed; each gets it at its next
deploy, restart or run. `app` None means the global config throughout.
"""

import contextlib
from collections.abc import Callable, Iterator
from typing import Optional

from minidokku.build import buildpack_choice
from minidokku.context import Context
from minidokku.ops import apps, deploy
from minidokku.plugins import triggers
from minidokku.records import envfile, releases
from minidokku.state import file_lock

GLOBAL_LOCK = ".config.lock"  # in the root: one change of the global config at a time


def read(ctx: Context, app: Optional[str], merged: bool = False) -> dict[str, str]:
    """The app's config (merged: over the global one), or the global config."""
    if app is None:
        return ctx.store.read_env(None)
    env = ctx.store.read_env(apps.require(ctx, app))
    return envfile.with_global(ctx.store, env) if merged else env


def get_var(ctx: Context, app: Optional[str], key: str) -> Optional[str]:
    """The value of key, None when it is not set."""
    return read(ctx, app).get(key)


def set_vars(
    ctx: Context, app: Optional[str], pairs: list[str], restart: bool = True, encoded: bool = False
) -> dict[str, str]:
    """Sets `KEY=VALUE` pairs (encoded: the values are base64)."""
    updates = dict(envfile.parse_assignment(pair, encoded) for pair in pairs)
    _update(
        ctx,
        app,
        _setting(ctx, updates, replace=False),
        f"Set {', '.join(updates)} config vars",
        restart,
        "set",
        *updates,
    )
    return updates


def import_vars(
    ctx: Context, app: Optional[str], updates: dict[str, str], restart: bool = True, replace: bool = False
) -> None:
    """Sets the config vars of an imported file; replace: they are then the whole config."""
    description = f"Import {', '.join(updates)} config vars" + (", replacing the others" if replace else "")
    _update(ctx, app, _setting(ctx, updates, replace), description, restart, "set", *updates)


def _setting(ctx: Context, updates: dict[str, str], replace: bool) -> Callable[[dict[str, str]], dict[str, str]]:
    def change(env: dict[str, str]) -> dict[str, str]:
        ctx.out.step("Setting config vars")
        for key in updates:  # the keys only: values are secrets
            ctx.out.info(f"{key}:  (set)")
        return dict(updates) if replace else {**env, **updates}

    return change


def unset_vars(ctx: Context, app: Optional[str], keys: list[str], restart: bool = True) -> None:
    for key in keys:
        envfile.validate_key(key)

    def without(env: dict[str, str]) -> dict[str, str]:
        for key in keys:
            ctx.out.step(f"Unsetting {key}" if key in env else f"Skipping {key}, it is not set in the environment")
        return {key: value for key, value in env.items() if key not in keys}

    _update(ctx, app, without, f"Unset {', '.join(keys)} config vars", restart, "unset", *keys)


def clear(ctx: Context, app: Optional[str], restart: bool = True) -> None:
    def nothing(env: dict[str, str]) -> dict[str, str]:
        for key in sorted(env):
            ctx.out.step(f"Unsetting {key}")
        return {}

    _update(ctx, app, nothing, "Clear config vars", restart, "clear")


def _update(
    ctx: Context,
    app: Optional[str],
    change: Callable[[dict[str, str]], dict[str, str]],
    description: str,
    restart: bool,
    operation: str,
    *keys: str,
) -> None:
    """Applies change to the config and saves it, through a new release when it deploys; then,
    when the config changed, post-config-update gets the operation and the keys, as in Dokku
    (APP is empty for the global config)."""
    if app is not None:
        apps.require(ctx, app)
    with _exclusive(ctx, app, restart):
        old = ctx.store.read_env(app)
        new = change(dict(old))
        url = new.get("BUILDPACK_URL", "")
        if url.strip() and url != old.get("BUILDPACK_URL"):  # refused now rather than at the next push
            _check_buildpack_url(ctx, app, url)
        current = releases.current(ctx.store, app) if app is not None and restart else None
        if current is not None and new != current.config:
            deploy.change_config(ctx, app, new, description)  # saves env once the release serves
        elif new != old:
            ctx.store.write_env(app, new)
    if new != old:
        triggers.fire(ctx, "post-config-update", app or "", operation, *keys)


def _check_buildpack_url(ctx: Context, app: Optional[str], url: str) -> None:
    if app is None:
        buildpack_choice.parse(url)  # each app checks the global one against its own rules when it builds
    else:
        buildpack_choice.check(ctx.store, app, url, "BUILDPACK_URL")


@contextlib.contextmanager
def _exclusive(ctx: Context, app: Optional[str], restart: bool) -> Iterator[None]:
    """A change of an app's config that deploys waits for no other deploy and respects
    apps:lock; either finishes first the record a killed deploy left half written, so ENV is read
    as that release wrote it. A change of the global config holds the global config's lock."""
    if app is None:
        with file_lock(ctx.store.path(None, GLOBAL_LOCK)):
            yield
    else:
        with deploy.exclusive(ctx, app) if restart else deploy.locked(ctx, app):
            yield
