"""Config vars: setting and unsetting them redeploys the current release with the new environment.

The new environment is saved only once the redeploy serves, so a change that breaks the app
is not kept and the running release is untouched.
"""

from minidokku import apps, deploy, envfile
from minidokku.context import Context
from minidokku.errors import NotFound


def set_vars(ctx: Context, app: str, pairs: list[str], restart: bool = True) -> dict[str, str]:
    apps.require(ctx, app)
    updates = dict(envfile.parse_assignment(pair) for pair in pairs)
    with ctx.store.lock(app):
        env = dict(ctx.store.read_env(app), **updates)
        _apply(ctx, app, env, f"Set {', '.join(updates)} config vars", restart)
    return updates


def unset_vars(ctx: Context, app: str, keys: list[str], restart: bool = True) -> None:
    apps.require(ctx, app)
    for key in keys:
        envfile.validate_key(key)
    with ctx.store.lock(app):
        env = {key: value for key, value in ctx.store.read_env(app).items() if key not in keys}
        _apply(ctx, app, env, f"Unset {', '.join(keys)} config vars", restart)


def get_var(ctx: Context, app: str, key: str) -> str:
    apps.require(ctx, app)
    env = ctx.store.read_env(app)
    if key not in env:
        raise NotFound(f"{app} has no config var {key}")
    return env[key]


def _apply(ctx: Context, app: str, env: dict[str, str], description: str, restart: bool) -> None:
    if restart:
        deploy.redeploy(ctx, app, env, description)
    ctx.store.write_env(app, env)
