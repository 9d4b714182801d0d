"""Config vars: setting and unsetting them deploys the current image with the new config as a
new release.

The new config is saved only once that release serves, so a change that breaks the app is not
kept and the running release is untouched.
"""

from minidokku.build import buildpack_choice
from minidokku.context import Context
from minidokku.errors import NotFound
from minidokku.ops import apps, deploy
from minidokku.plugins import triggers
from minidokku.records import envfile, releases


def set_vars(ctx: Context, app: str, pairs: list[str], restart: bool = True) -> dict[str, str]:
    apps.require(ctx, app)
    updates = dict(envfile.parse_assignment(pair) for pair in pairs)
    if updates.get("BUILDPACK_URL", "").strip():  # refused now rather than at the next push
        buildpack_choice.check(ctx.store, app, updates["BUILDPACK_URL"], "BUILDPACK_URL")
    with _exclusive(ctx, app, restart):
        env = dict(ctx.store.read_env(app), **updates)
        _apply(ctx, app, env, f"Set {', '.join(updates)} config vars", restart)
    triggers.fire(ctx, "post-config-update", app, "set", *updates)
    return updates


def unset_vars(ctx: Context, app: str, keys: list[str], restart: bool = True) -> None:
    apps.require(ctx, app)
    for key in keys:
        envfile.validate_key(key)
    with _exclusive(ctx, app, restart):
        env = {key: value for key, value in ctx.store.read_env(app).items() if key not in keys}
        _apply(ctx, app, env, f"Unset {', '.join(keys)} config vars", restart)
    triggers.fire(ctx, "post-config-update", app, "unset", *keys)


def get_var(ctx: Context, app: str, key: str) -> str:
    apps.require(ctx, app)
    env = ctx.store.read_env(app)
    if key not in env:
        raise NotFound(f"{app} has no config var {key}")
    return env[key]


def _exclusive(ctx: Context, app: str, restart: bool):
    """A change that deploys waits for no other deploy and respects apps:lock. Either finishes
    first the record a killed deploy left half written, so ENV is read as that release wrote it."""
    return deploy.exclusive(ctx, app) if restart else deploy.locked(ctx, app)


def _apply(ctx: Context, app: str, env: dict[str, str], description: str, restart: bool) -> None:
    if restart and releases.current(ctx.store, app) is not None:
        deploy.change_config(ctx, app, env, description)  # saves env once the release serves
    else:
        ctx.store.write_env(app, env)
