"""What every command needs: settings, the state store, the output, and the outside world's
adapters. The scheduler and the proxy may be given (tests give fakes); otherwise they, the Engine
client and nginx are made when first used (so `apps:list` never touches Docker)."""

from functools import cached_property
from typing import TYPE_CHECKING, Optional

from minidokku.engine.client import Engine
from minidokku.output import Output
from minidokku.routing.nginx import Nginx
from minidokku.runtime import isolation
from minidokku.runtime.docker_scheduler import DockerScheduler
from minidokku.runtime.scheduler import Scheduler
from minidokku.settings import Settings
from minidokku.state import Store
from minidokku.steps import StepTimer

if TYPE_CHECKING:  # routing/proxy.py works on a Context
    from minidokku.routing.proxy import Proxy


class Context:
    def __init__(
        self, settings: Settings, out: Output, scheduler: Optional[Scheduler] = None, proxy: Optional["Proxy"] = None
    ):
        self.settings = settings
        self.out = out
        self.store = Store(settings.root)
        self._scheduler = scheduler
        self._proxy = proxy
        self.steps = StepTimer()  # times nothing unless the command traces (cli/__init__.py)

    def docker_name(self, app: str) -> str:
        """The app's name on the Docker engine (labels, container names, image, cache volume)."""
        return self.settings.namespace + app

    @property
    def apps_network(self) -> str:
        """The network app containers join unless their docker-options name one (runtime/isolation.py)."""
        return isolation.network_name(self.settings.namespace)

    @cached_property
    def engine(self) -> Engine:
        """The Engine client, for what builds images (build/, the postgres image); what runs goes
        through the scheduler."""
        return Engine(self.settings.docker_socket)

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            self._scheduler = DockerScheduler(self.engine, self.apps_network)
        return self._scheduler

    @property
    def proxy(self) -> "Proxy":
        if self._proxy is None:
            from minidokku.routing.proxy import NginxProxy  # it imports this module

            self._proxy = NginxProxy(self)
        return self._proxy

    @cached_property
    def nginx(self) -> Nginx:
        return Nginx(self.settings.nginx_command, self.settings.root)
