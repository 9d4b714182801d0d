"""plugin:install|update|uninstall: a plugin comes in whole or not at all, and goes once its
uninstall trigger agrees.

A new plugin is fetched aside, moved in, and its `dependencies` and `install` triggers run; if
either fails, it is taken out again. An update fetches the new version aside, swaps it in and
runs its `update` trigger; on failure the old version goes back.
"""

from typing import Optional

from minidokku.context import Context
from minidokku.plugins import registry, triggers
from minidokku.plugins.registry import Plugin


def install(ctx: Context, source: str, name: Optional[str] = None) -> Plugin:
    fetched = registry.fetch(ctx.store, source, name or registry.name_from_source(source))
    try:
        plugin = registry.move_in(ctx.store, fetched)
    finally:
        registry.discard(fetched)
    try:
        for trigger in ("dependencies", "install"):
            triggers.run_one(ctx, plugin, trigger)
    except BaseException:
        registry.remove(ctx.store, plugin.name)
        raise
    return plugin


def install_all(ctx: Context) -> None:
    """`plugin:install` without a source: every enabled plugin's install trigger again (as
    Dokku's installer does after an upgrade)."""
    for trigger in ("dependencies", "install"):
        triggers.fire(ctx, trigger)


def uninstall(ctx: Context, name: str) -> None:
    """Runs the plugin's uninstall trigger (a failure keeps it installed), then removes it."""
    plugin = registry.find(ctx.store, name)
    if not plugin.bundled and not plugin.problem:
        triggers.run_one(ctx, plugin, "uninstall")
    registry.remove(ctx.store, name)


def update(ctx: Context, name: str, ref: str = "") -> Plugin:
    """Fetches the plugin again from where it came (at ref, for a git source)."""
    source = registry.source_of(registry.find(ctx.store, name))
    if ref:
        source = f"{source.partition('#')[0]}#{ref}"
    fetched = registry.fetch(ctx.store, source, name)
    kept = registry.swap(ctx.store, fetched)
    try:
        plugin = registry.find(ctx.store, name)
        triggers.run_one(ctx, plugin, "update")
    except BaseException:
        registry.restore(ctx.store, name, kept)
        raise
    registry.discard(kept)
    return plugin
