"""The sample app the installer deploys, so that its first command ends with an app serving:
catmeow, the app of the article minidokku grew from (minidokku/sample, a link to the tests'
tests/apps/catmeow, shipped inside the zipapp).

It takes the path a user's push takes: the app is made as a first push makes it, and its files
reach its repository by a real `git push`, whose pre-receive hook builds and deploys them. Before,
a machine without a global domain gets `<its address>.sslip.io`, a name sslip.io's DNS answers with
the address written in it, so the app is reached at once with no DNS set-up.

It is deployed once per machine: ROOT/SAMPLE records that it was (or why it was not), and it is
never deployed again, also not after `apps:destroy catmeow`; only a push that did not end is
tried again, while the app is there. A machine that has apps already gets no sample (an upgrade of a running install);
install.sh runs it only on the install that made the dokku user's home, or to finish one it began.
"""

import ipaddress
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import minidokku
from minidokku.build import gitrepo
from minidokku.context import Context
from minidokku.ops import app_lifecycle, push
from minidokku.routing import domains, host_address

APP = "catmeow"
RECORD = "SAMPLE"  # ROOT/SAMPLE: one line `STATE TIME WHAT`, STATE one of these three:
DEPLOYED, SKIPPED, PUSHING = "deployed", "skipped", "pushing"  # pushing: tried again by the next run
NO_DNS_SUFFIX = "sslip.io"  # <IPv4>.sslip.io and every name under it resolve to that address
# what the push prints goes to root's terminal (install.sh), and the dokku user's repo and hooks
# write it: control characters (C0 but the tab, DEL, C1) go, so no escape sequence reaches it
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Outcome:
    """What deploy() did: url is where the sample serves (None: it was not deployed), said why not."""

    url: Optional[str] = None
    said: str = ""


def source() -> Path:
    """The sample's files, as the package carries them."""
    return Path(minidokku.__file__).parent / "sample"


def deploy(ctx: Context) -> Outcome:
    """Deploys the sample unless it was once, or the machine has apps; see the module's docstring.
    A push that failed (PUSHING recorded) is tried again while catmeow is there: once destroyed,
    it is not made again."""
    recorded = ctx.store.read(None, RECORD) or ""
    retry = recorded.startswith(PUSHING) and ctx.store.app_exists(APP)
    if recorded and not retry:
        return Outcome(said=f"The sample is never deployed twice ({RECORD}: {recorded.strip()})")
    if not recorded:
        existing = ctx.store.list_apps()
        if existing:
            said = f"{APP} not deployed: this machine has apps already ({', '.join(existing)})"
            _record(ctx, SKIPPED, said)
            return Outcome(said=f"The sample app {said}")
        ensure_global_domain(ctx)
        app_lifecycle.create(ctx, APP, None)
    _record(ctx, PUSHING, f"{APP}: its first push did not end")
    _push(ctx)
    _record(ctx, DEPLOYED, APP)
    return Outcome(url=ctx.proxy.url(APP))


def ensure_global_domain(ctx: Context) -> None:
    """Says the machine's first global domain; where it has none, sets (and says)
    `<its outward IPv4 address>.sslip.io`, which needs no DNS set-up."""
    present = domains.global_domains(ctx.store)
    if present:
        ctx.out.info(f"The global domain is {present[0]}: the sample answers at {APP}.{present[0]}")
        return
    address = host_address.outward_ipv4()
    domain = f"{address}.{NO_DNS_SUFFIX}"
    domains.set_global(ctx.store, [domain])
    ctx.out.step(f"Set the global domain to {domain}")
    ctx.out.info(f"{NO_DNS_SUFFIX} resolves it and every name under it to {address}: no DNS set-up needed")
    if not ipaddress.ip_address(address).is_global:
        ctx.out.info(f"{address} is not a public address: those names are reached from its own network only")
    ctx.out.info("Your own domain instead: dokku domains:set-global example.com")


def _push(ctx: Context) -> None:
    """Pushes the sample's files to the app's repository, as `git push` from a checkout would:
    git's receive-pack runs the app's pre-receive hook, which builds and deploys them. As before
    every push over ssh, the hook and the push size limit are written again first."""
    push.initialize(ctx, APP)
    repo = ctx.store.app_dir(APP)
    branch = push.deploy_branch(ctx.store, APP)
    with tempfile.TemporaryDirectory(prefix="minidokku-sample-") as scratch:
        tree = Path(scratch) / APP
        shutil.copytree(source(), tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        ctx.out.step(f"Pushing the sample app {APP} to {repo}")
        gitrepo.push_directory(
            tree, repo, branch, "The sample app of minidokku's installer", lambda line: ctx.out.line(printable(line))
        )


def printable(line: str) -> str:
    """line without its control characters (the tab kept)."""
    return _CONTROL.sub("", line)


def _record(ctx: Context, state: str, said: str) -> None:
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ctx.store.write(None, RECORD, f"{state} {when} {said}\n")
