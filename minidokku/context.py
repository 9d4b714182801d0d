"""What every command needs: settings, the state store, the output, and the outside world's
adapters, made when first used (so `apps:list` never touches Docker)."""

from functools import cached_property

from minidokku.engine.client import Engine
from minidokku.output import Output
from minidokku.routing.nginx import Nginx
from minidokku.runtime import isolation
from minidokku.runtime.docker_scheduler import DockerScheduler
from minidokku.settings import Settings
from minidokku.state import Store


class Context:
    def __init__(self, settings: Settings, out: Output):
        self.settings = settings
        self.out = out
        self.store = Store(settings.root)

    def docker_name(self, app: str) -> str:
        """The app's name on the Docker engine (labels, container names, image, cache volume)."""
        return self.settings.namespace + app

    @property
    def apps_network(self) -> str:
        """The network app containers join unless their docker-options name one (runtime/isolation.py)."""
        return isolation.network_name(self.settings.namespace)

    @cached_property
    def engine(self) -> Engine:
        return Engine(self.settings.docker_socket)

    @cached_property
    def scheduler(self) -> DockerScheduler:
        return DockerScheduler(self.engine, self.apps_network)

    @cached_property
    def nginx(self) -> Nginx:
        return Nginx(self.settings.nginx_command, self.settings.root)
