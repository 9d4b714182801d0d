"""Apps made, renamed, cloned and destroyed (repo, state, containers, image, proxy); which exist,
and the deploy lock, are ops/apps.py.

A rename moves the app's folder to its new name in one step, so that every file of the app (repo,
config, domains, ports, certificates, releases, scale, properties, grants, docker options) is the
old app's or the new one's, never some of each. Before the move the folder gets RENAMED_FROM,
naming the old app; after it, the new app is set up (its git hook, its default domains, its images'
tags, the plugins' post-app-rename-setup), deployed, and only then are the old app's containers,
site, tags and cache removed and RENAMED_FROM with them. Until then the old containers keep
serving, and a rename cut short (killed, or its deploy failed) is finished by running the same
`apps:rename OLD NEW` again.
"""

import shutil
from typing import Optional

from minidokku.access import rules
from minidokku.build import buildpack_choice, gitrepo
from minidokku.build.builders import build_base, image_repository
from minidokku.build.builders.buildpacks import cache_volume
from minidokku.context import Context
from minidokku.errors import AlreadyExists, Locked, MinidokkuError, ValidationError
from minidokku.ops import deploy, letsencrypt
from minidokku.ops.apps import is_locked, require
from minidokku.plugins import triggers
from minidokku.records import docker_options, names, ps_settings, registry, releases, resources, scale, storage
from minidokku.records import scheduler as selection
from minidokku.routing import domains, ports
from minidokku.runtime import checks
from minidokku.state import file_lock

CREATE_LOCK = ".apps.lock"  # held while an app is made


def create(ctx: Context, app: str, key: Optional[str]) -> None:
    """Makes the app for the ssh key named key (None: the host). A user key's quota is counted
    and its new app granted to it under one lock for the whole machine, so that two creates
    at once cannot take it over its quota."""
    names.validate_app_name(app)
    with file_lock(ctx.store.path(None, CREATE_LOCK)), domains.new_app_names(ctx.store, app, _by_user_key(ctx, key)):
        _require_free(ctx, app)
        rules.check_quota(ctx.store, key, ctx.settings.user_app_quota)
        ctx.out.step(f"Creating {app}...")
        _remove_leftovers(ctx, app)
        repo = ctx.store.create_app_dir(app)
        gitrepo.init_bare(repo)
        gitrepo.install_pre_receive_hook(repo, ctx.settings.program, ctx.settings.root, app)
        gitrepo.limit_push_size(repo, ctx.settings.max_push_size)  # for receive-pack run by hand; a push gives its own
        rules.after_create(ctx.store, key, app)
    triggers.fire(ctx, "post-create", app)


def _require_free(ctx: Context, app: str) -> None:
    """Raises AlreadyExists when an app has the name, or is being renamed from it: the old name's
    containers serve until the rename has finished, which removes them; an app made under it
    meanwhile would lose its own with them."""
    if ctx.store.app_exists(app):
        raise AlreadyExists(f"Name is already taken: {app}")
    for other in ctx.store.list_apps():
        if _renamed_from(ctx, other) == app:
            raise AlreadyExists(
                f"Name is still taken: {app} is being renamed to {other} "
                f"(`dokku apps:rename {app} {other}` finishes it)"
            )


def _by_user_key(ctx: Context, key: Optional[str]) -> bool:
    return key is not None and rules.role(ctx.store, key) == rules.USER


def _remove_leftovers(ctx: Context, app: str) -> None:
    """A folder without a repo is what an interrupted apps:destroy left (ENV, ACL, tls/ ...):
    the next app of that name, whoever creates it, must not inherit it."""
    folder = ctx.store.app_dir(app)
    if folder.exists() or folder.is_symlink():
        ctx.out.info(f"Removing what an earlier {app} left behind")
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        else:
            folder.unlink()


def destroy(ctx: Context, app: str) -> None:
    """Removes everything the app has: containers, images, cache, proxy config, repo and state."""
    require(ctx, app)
    repository = image_repository(ctx.docker_name(app))
    triggers.fire(ctx, "pre-delete", app, repository)
    with ctx.store.lock(app):
        ctx.scheduler_for(app).remove_app(ctx.docker_name(app))
        ctx.proxy.remove(app)
        _remove_images(ctx, app)
        ctx.scheduler.remove_volume(cache_volume(ctx.docker_name(app)))
        ctx.store.remove_app(app)
        letsencrypt.forget(ctx, app)
    triggers.fire(ctx, "post-delete", app, repository)


def _remove_images(ctx: Context, app: str) -> None:
    """Removes our tags (dokku/APP:latest, :vN and :build-base), then the release images no other
    name holds: an image the app was deployed from (git:from-image) stays, under its own name."""
    history = releases.history(ctx.store, app)
    repository = image_repository(ctx.docker_name(app))
    tags = [f"{repository}:{tag}" for tag in ["latest", *(release.name for release in history), build_base.TAG]]
    ctx.scheduler.remove_images(tags, {release.image_id for release in history}, must_go=True)


# -- rename ------------------------------------------------------------------------------------
RENAMED_FROM = "RENAMED_FROM"  # in the app's folder while a rename to it is not finished


def rename(ctx: Context, old: str, new: str, key: Optional[str], skip_deploy: bool = False) -> None:
    """Renames old to new (see the module's docstring), or finishes such a rename cut short."""
    names.validate_app_name(old)
    names.validate_app_name(new)
    resuming = not ctx.store.app_exists(old) and _renamed_from(ctx, new) == old
    if not resuming:
        _check_renamable(ctx, old, new)
    with file_lock(ctx.store.path(None, CREATE_LOCK)), domains.new_app_names(ctx.store, new, _by_user_key(ctx, key)):
        if resuming:
            ctx.out.step(f"Finishing the rename of {old} to {new}")
        else:
            ctx.out.step(f"Renaming {old} to {new}")
            _move(ctx, old, new)
        _rename_default_domains(ctx, old, new)
    try:
        _finish_rename(ctx, old, new, skip_deploy)
    except MinidokkuError:
        ctx.out.info(
            f"{old} is now {new}, but not switched over yet ({old}'s containers still serve): "
            f"run `dokku apps:rename {old} {new}` again (an admin key, or on the host) to finish"
        )
        raise


def _finish_rename(ctx: Context, old: str, new: str, skip_deploy: bool) -> None:
    """Everything after the move; each step may be done again."""
    with ctx.store.lock(new):
        gitrepo.install_pre_receive_hook(ctx.store.app_dir(new), ctx.settings.program, ctx.settings.root, new)
        _tag_images(ctx, new)
        triggers.fire(ctx, "post-app-rename-setup", old, new)
    _switch(ctx, old, new, skip_deploy)
    _remove_old_names(ctx, old, new)
    letsencrypt.forget(ctx, old)  # the new name's webroot is made by its next letsencrypt:enable or renewal
    triggers.fire(ctx, "post-app-rename", old, new)
    ctx.store.remove(new, RENAMED_FROM)


def _renamed_from(ctx: Context, app: str) -> Optional[str]:
    return (ctx.store.read(app, RENAMED_FROM) or "").strip() or None


def _check_renamable(ctx: Context, old: str, new: str) -> None:
    require(ctx, old)
    if old == new:
        raise ValidationError(f"{old} is already named {new}")
    _require_free(ctx, new)
    if is_locked(ctx, old):
        raise Locked(f"{old} is locked by apps:lock; run `dokku apps:unlock {old}` to rename it")


def _move(ctx: Context, old: str, new: str) -> None:
    """The app's folder under its new name, marked RENAMED_FROM old; the caller holds the
    create lock, so that no app takes the name meanwhile."""
    with ctx.store.lock(old):
        _require_free(ctx, new)
        _remove_leftovers(ctx, new)
        ctx.store.write(old, RENAMED_FROM, old + "\n")
        ctx.store.move_app(old, new)


def _rename_default_domains(ctx: Context, old: str, new: str) -> None:
    """OLD.GLOBAL among the app's own domains becomes NEW.GLOBAL (checked free with the rest of
    NEW's default names); its other domains stay. An app without own domains has NEW's defaults."""
    renamed = _default_names(ctx, old, new)
    own = domains.own_domains(ctx.store, new)
    if any(domain in renamed for domain in own):
        ctx.store.write_lines(new, domains.FILE, [renamed.get(domain, domain) for domain in own])


def _default_names(ctx: Context, old: str, new: str) -> dict[str, str]:
    """OLD.GLOBAL -> NEW.GLOBAL for each global domain."""
    return dict(zip(domains.default_domains(ctx.store, old), domains.default_domains(ctx.store, new)))


def _tag_images(ctx: Context, app: str) -> None:
    """Every release's image tagged for the app (dokku/APP:vN), so that a rollback finds it."""
    repository = image_repository(ctx.docker_name(app))
    for release in releases.history(ctx.store, app):
        ctx.scheduler.tag_image(release.image_id, repository, release.name)


def _switch(ctx: Context, old: str, new: str, skip_deploy: bool) -> None:
    """Runs the current release as new, routed at new's names (nginx's site of the app is the one
    file in its folder: old's site goes as new's comes), then stops old's containers. With
    skip_deploy, nothing deployed, or the app stopped (ps:stop), it is left stopped and unrouted."""
    running = releases.current(ctx.store, new) is not None and not ps_settings.is_stopped(ctx.store, new)
    if running and not skip_deploy:
        with deploy.exclusive(ctx, new):
            deploy.restart(ctx, new)
    else:
        ctx.proxy.remove(new)
    scheduler = ctx.scheduler_for(new)  # old's properties are new's now
    old_containers = scheduler.containers(ctx.docker_name(old))
    scheduler.retire([container.id for container in old_containers])
    scheduler.remove_app(ctx.docker_name(old))
    ctx.proxy.remove(old)


def _remove_old_names(ctx: Context, old: str, new: str) -> None:
    """Old's image tags (new's tags keep the images) and its build cache (its build base too)."""
    repository = image_repository(ctx.docker_name(old))
    tags = [f"{repository}:{tag}" for tag in ["latest", *(r.name for r in releases.history(ctx.store, new))]]
    tags.append(build_base.name(ctx.docker_name(old)))
    ctx.scheduler.remove_images(tags, [])
    ctx.scheduler.remove_volume(cache_volume(ctx.docker_name(old)))


# -- clone -------------------------------------------------------------------------------------
# What a clone takes of the app besides its repo and config: scale, limits, port mappings,
# buildpacks, docker options, storage mounts (as Dokku's: the same entries) and properties. Not
# its own domains (one domain names one app; the default OLD.GLOBAL becomes NEW.GLOBAL),
# certificates, grants, releases or own proxy port.
CLONED_FILES = (
    scale.FILE,
    resources.FILE,
    ports.FILE,
    buildpack_choice.FILE,
    *(docker_options.file_name(phase) for phase in docker_options.PHASES),
    storage.MOUNTS_FILE,
)
# A user key's clone takes only what that key may set itself (config:set, ps:scale, checks:set,
# ps:set, domains:enable|disable): docker options, limits, port mappings, buildpacks and the
# nginx, proxy and builder properties of an app are an admin's choice for that one app.
USER_CLONED_FILES = (scale.FILE,)
USER_CLONED_PROPERTIES = (checks.FAMILY, ps_settings.FAMILY, domains.FAMILY)
PROPERTIES = "properties"


def clone(
    ctx: Context, old: str, new: str, key: Optional[str], skip_deploy: bool = False, ignore_existing: bool = False
) -> bool:
    """Makes new a copy of old (CLONED_FILES) deploying old's current release; False when new
    exists and ignore_existing (nothing done)."""
    require(ctx, old)
    names.validate_app_name(new)
    if ignore_existing and ctx.store.app_exists(new):
        return False
    ctx.out.step(f"Cloning {old} to {new}")
    create(ctx, new, key)
    gitrepo.copy_history(ctx.store.app_dir(old), ctx.store.app_dir(new))
    _copy_settings(ctx, old, new, _by_user_key(ctx, key))
    renamed = _default_names(ctx, old, new)
    kept = [renamed[domain] for domain in domains.own_domains(ctx.store, old) if domain in renamed]
    if kept:
        domains.set_app(ctx.store, new, kept, _by_user_key(ctx, key))
    triggers.fire(ctx, "post-app-clone-setup", old, new)
    current = releases.current(ctx.store, old)
    if current is not None and not skip_deploy:
        with deploy.exclusive(ctx, new):
            env = ctx.store.read_env(new)
            release = releases.successor(ctx.store, new, current, f"Clone of {old} {current.name}", env)
            deploy.deploy_release(ctx, new, release)
    triggers.fire(ctx, "post-app-clone", old, new)
    return True


def _copy_settings(ctx: Context, old: str, new: str, by_user_key: bool) -> None:
    ctx.store.write_env(new, ctx.store.read_env(old))
    folder = ctx.store.path(old, PROPERTIES)
    families = sorted(path.name for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []
    if by_user_key:
        families = [family for family in families if family in USER_CLONED_PROPERTIES]
    files = USER_CLONED_FILES if by_user_key else CLONED_FILES
    with storage.lock(ctx.store):  # the mounts copied are never of an entry being destroyed
        for name in [*files, *(f"{PROPERTIES}/{family}" for family in families)]:
            text = ctx.store.read(old, name)
            if text is not None:
                ctx.store.write(new, name, text)
    credentials = None if by_user_key else ctx.store.read(old, registry.REGISTRY_AUTH)  # registry:login APP
    if credentials is not None:
        ctx.store.write(new, registry.REGISTRY_AUTH, credentials, mode=0o600)
    registry.forget_own_repository(ctx.store, new)  # the copy pushes to its own, counting from 1
    selection.forget_swarm(ctx.store, new)  # nor has it its original's services on the swarm
