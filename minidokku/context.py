"""What every command needs: settings, the state store, the output, and the outside world's
adapters. The scheduler and the proxy may be given (tests give fakes); otherwise they, the Engine
client and nginx are made when first used, and their modules imported then: `apps:list` never
touches Docker, and never loads what does (tests/unit/test_program_start.py)."""

from functools import cached_property
from typing import TYPE_CHECKING, Optional

from minidokku.output import Output
from minidokku.settings import Settings
from minidokku.state import Store
from minidokku.steps import StepTimer

if TYPE_CHECKING:  # imported where first used, below (routing/proxy.py also imports this module)
    from minidokku.engine.client import Engine
    from minidokku.routing.nginx import Nginx
    from minidokku.routing.proxy import Proxy
    from minidokku.runtime.scheduler import Scheduler


PORTS_LOCK = ".host-ports.lock"  # under the root: held while a web container's host ports are picked


class Context:
    def __init__(
        self,
        settings: Settings,
        out: Output,
        scheduler: Optional["Scheduler"] = None,
        proxy: Optional["Proxy"] = None,
    ):
        self.settings = settings
        self.out = out
        self.store = Store(settings.root)
        self._scheduler = scheduler
        self._given_scheduler = scheduler is not None  # a test's: it runs every app
        self._swarm: dict[bool, Scheduler] = {}  # by starts_here, made when first asked for
        self._proxy = proxy
        self.steps = StepTimer()  # times nothing unless the command traces (cli/__init__.py)

    def docker_name(self, app: str) -> str:
        """The app's name on the Docker engine (labels, container names, image, cache volume)."""
        return self.settings.namespace + app

    @property
    def apps_network(self) -> str:
        """The network app containers join unless their docker-options name one (runtime/isolation.py)."""
        from minidokku.runtime import isolation

        return isolation.network_name(self.settings.namespace)

    @cached_property
    def engine(self) -> "Engine":
        """The Engine client, for what builds images (build/, the postgres image); what runs goes
        through the scheduler."""
        from minidokku.engine.client import Engine

        return Engine(self.settings.docker_socket)

    @property
    def scheduler(self) -> "Scheduler":
        if self._scheduler is None:
            from minidokku.runtime.docker_scheduler import DockerScheduler

            self._scheduler = DockerScheduler(
                self.engine, self.apps_network, self.store.path(None, PORTS_LOCK), self.settings.stack_image
            )
        return self._scheduler

    def scheduler_for(self, app: str) -> "Scheduler":
        """The scheduler that runs the app's processes (`scheduler:set APP selected`): this
        host's, or the swarm's (its manager at `scheduler-swarm:set --global manager-socket`);
        an app moving back from the swarm has the swarm's, starting its new processes here,
        until its last services there are gone. A context given a scheduler (a test's) uses it
        for every app."""
        from minidokku.records import scheduler as selection

        if self._given_scheduler:
            return self.scheduler
        if not selection.may_be_on_swarm(self.store, app):
            return self.scheduler
        starts_here = not selection.runs_on_swarm(self.store, app)
        if starts_here not in self._swarm:
            from minidokku.runtime.swarm_scheduler import SwarmScheduler

            self._swarm[starts_here] = SwarmScheduler(
                self.swarm_manager,
                self.scheduler,
                starts_here=starts_here,
                node_sockets=selection.node_sockets(self.store),
            )
        return self._swarm[starts_here]

    @cached_property
    def swarm_manager(self) -> "Engine":
        """The Engine client of the swarm's manager (`scheduler-swarm:*`, the swarm scheduler)."""
        from minidokku.engine.client import Engine
        from minidokku.records import scheduler as selection

        return Engine(selection.manager_socket(self.store, self.settings.docker_socket))

    @property
    def proxy(self) -> "Proxy":
        if self._proxy is None:
            from minidokku.routing.proxy import NginxProxy

            self._proxy = NginxProxy(self)
        return self._proxy

    @cached_property
    def nginx(self) -> "Nginx":
        from minidokku.routing.nginx import Nginx

        return Nginx(self.settings.nginx_command, self.settings.root)
