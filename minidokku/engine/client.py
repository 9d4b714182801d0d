"""The Docker Engine API, one thin method per endpoint, over the unix socket.

Nothing else in minidokku talks to Docker. Methods return decoded JSON or iterators over
streamed output, and raise EngineError / EngineNotFound built from the HTTP status.
"""

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from typing import IO, Optional, Union

from minidokku.engine import attach, streams
from minidokku.engine.attach import Hijacked
from minidokku.errors import EngineError, EngineNotFound

API_VERSION = "v1.41"  # Engine 20.10 (Debian bookworm's docker.io); newer engines accept it
DEFAULT_TIMEOUT = 60

Body = Union[bytes, IO[bytes], Iterator[bytes], None]


def _transport():
    """The HTTP transport (engine/transport.py, requests with it), loaded by the first Engine
    client made: a command that never talks to Docker (apps:list) starts without it."""
    from minidokku.engine import transport

    return transport


class Engine:
    def __init__(self, socket_path: str = "/var/run/docker.sock"):
        self.socket_path = socket_path
        self.session, base = _transport().session_for(socket_path)
        self.base_url = f"{base}/{API_VERSION}"

    # -- plumbing -------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, stream: bool = False, timeout=DEFAULT_TIMEOUT, **kwargs):
        try:
            response = self.session.request(method, self.base_url + path, stream=stream, timeout=timeout, **kwargs)
        except _transport().CONNECTION_ERRORS as error:
            raise EngineError(f"the Docker engine does not answer at {self.socket_path}: {error}") from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def _json(self, method: str, path: str, **kwargs):
        response = self._request(method, path, **kwargs)
        return response.json() if response.content else None

    # -- system ---------------------------------------------------------------------------
    def ping(self) -> bool:
        try:
            return self._request("GET", "/_ping", timeout=5).text == "OK"
        except EngineError:
            return False

    def events(self) -> Iterator[dict]:
        """The engine's events (a container started, died, ...) as they happen, until the engine
        closes the connection: it stops. Raises EngineError when it does not answer."""
        response = self._request("GET", "/events", stream=True, timeout=(DEFAULT_TIMEOUT, None))
        return _until_closed(response)

    def info(self) -> dict:
        """The engine's system information (its cgroup driver and version, ...)."""
        return self._json("GET", "/info")

    # -- containers -----------------------------------------------------------------------
    def create_container(self, config: dict, name: Optional[str] = None) -> str:
        params = {"name": name} if name else None
        return self._json("POST", "/containers/create", params=params, json=config)["Id"]

    def start_container(self, container_id: str) -> None:
        self._request("POST", f"/containers/{container_id}/start")

    def stop_container(self, container_id: str, timeout: int = 10) -> None:
        self._request("POST", f"/containers/{container_id}/stop", params={"t": timeout}, timeout=timeout + 30)

    def remove_container(self, container_id: str, force: bool = True) -> None:
        self._request("DELETE", f"/containers/{container_id}", params={"force": int(force), "v": 1})

    def rename_container(self, container_id: str, name: str) -> None:
        self._request("POST", f"/containers/{container_id}/rename", params={"name": name})

    def inspect_container(self, container_id: str) -> dict:
        return self._json("GET", f"/containers/{container_id}/json")

    def list_containers(self, labels: dict[str, Optional[str]], all_states: bool = True) -> list[dict]:
        """The containers carrying every label given; a label given None: whatever its value."""
        filters = {"label": [key if value is None else f"{key}={value}" for key, value in labels.items()]}
        params = {"all": int(all_states), "filters": _json_param(filters)}
        return self._json("GET", "/containers/json", params=params)

    def wait_container(self, container_id: str) -> int:
        return self._json("POST", f"/containers/{container_id}/wait", timeout=None)["StatusCode"]

    def container_logs(
        self, container_id: str, follow: bool = False, tail: Optional[int] = None, timestamps: bool = False
    ) -> Iterator[tuple[int, str]]:
        """Yields (stream id, line) for a container started without a TTY."""
        params = {"stdout": 1, "stderr": 1, "follow": int(follow), "timestamps": int(timestamps)}
        if tail is not None:
            params["tail"] = tail
        response = self._request("GET", f"/containers/{container_id}/logs", params=params, stream=True, timeout=None)
        return streams.lines(streams.demultiplex(response.iter_content(chunk_size=None)))

    def put_archive(self, container_id: str, path: str, tar_data: Body) -> None:
        self._request("PUT", f"/containers/{container_id}/archive", params={"path": path}, data=tar_data, timeout=None)

    def get_archive(self, container_id: str, path: str) -> bytes:
        return self._request("GET", f"/containers/{container_id}/archive", params={"path": path}).content

    def container_changes(self, container_id: str) -> list[str]:
        """The paths the container added, changed or deleted in its own layer."""
        return [change["Path"] for change in self._json("GET", f"/containers/{container_id}/changes") or []]

    def commit(self, container_id: str, repo: str, tag: str, config: dict) -> str:
        params = {"container": container_id, "repo": repo, "tag": tag}
        return self._json("POST", "/commit", params=params, json=config, timeout=None)["Id"]

    # -- one-off processes: attach and exec -----------------------------------------------
    def attach_container(self, container_id: str, tty: bool) -> Hijacked:
        """The container's stdin and output; attached before the start, no output is missed."""
        path = f"/{API_VERSION}/containers/{container_id}/attach?stream=1&stdin=1&stdout=1&stderr=1"
        return attach.hijack(self.socket_path, path, None, tty)

    def resize_container(self, container_id: str, height: int, width: int) -> None:
        self._request("POST", f"/containers/{container_id}/resize", params={"h": height, "w": width})

    def create_exec(self, container_id: str, cmd: list[str], tty: bool) -> str:
        config = {"Cmd": cmd, "Tty": tty, "AttachStdin": True, "AttachStdout": True, "AttachStderr": True}
        return self._json("POST", f"/containers/{container_id}/exec", json=config)["Id"]

    def start_exec(self, exec_id: str, tty: bool) -> Hijacked:
        return attach.hijack(
            self.socket_path, f"/{API_VERSION}/exec/{exec_id}/start", {"Detach": False, "Tty": tty}, tty
        )

    def resize_exec(self, exec_id: str, height: int, width: int) -> None:
        self._request("POST", f"/exec/{exec_id}/resize", params={"h": height, "w": width})

    def inspect_exec(self, exec_id: str) -> dict:
        return self._json("GET", f"/exec/{exec_id}/json")

    # -- images ---------------------------------------------------------------------------
    def inspect_image(self, name: str) -> dict:
        return self._json("GET", f"/images/{name}/json")

    def image_exists(self, name: str) -> bool:
        try:
            self.inspect_image(name)
            return True
        except EngineNotFound:
            return False

    def tag_image(self, name: str, repo: str, tag: str) -> None:
        self._request("POST", f"/images/{name}/tag", params={"repo": repo, "tag": tag})

    def remove_image(self, name: str, force: bool = False) -> None:
        self._request("DELETE", f"/images/{name}", params={"force": int(force)})

    def list_images(self, labels: dict[str, str], dangling: bool) -> list[dict]:
        filters = {"label": [f"{key}={value}" for key, value in labels.items()], "dangling": [str(dangling).lower()]}
        return self._json("GET", "/images/json", params={"filters": _json_param(filters)})

    def import_image(self, tar_stream: Body, repo: str, tag: str, changes: list[str]) -> Iterator[dict]:
        params = [("fromSrc", "-"), ("repo", repo), ("tag", tag)] + [("changes", c) for c in changes]
        response = self._request("POST", "/images/create", params=params, data=tar_stream, stream=True, timeout=None)
        return _progress(response)

    def pull_image(self, image: str, tag: str, auth: str = "") -> Iterator[dict]:
        """auth: an X-Registry-Auth value (registry_auth()), "" for none."""
        params = {"fromImage": image, "tag": tag}
        headers = {"X-Registry-Auth": auth} if auth else {}
        response = self._request("POST", "/images/create", params=params, headers=headers, stream=True, timeout=None)
        return _progress(response)

    def pull(self, reference: str, auth: str = "") -> None:
        """Pulls `name[:tag]` (the port of a registry host is not a tag) and waits until it is here."""
        name, tag = reference, "latest"
        if ":" in reference.rsplit("/", 1)[-1]:
            name, tag = reference.rsplit(":", 1)
        for _message in self.pull_image(name, tag, auth):
            pass

    def push_image(self, repository: str, tag: str, auth: str, time_limit: float) -> str:
        """Pushes repository:tag with auth (an X-Registry-Auth value: registry_auth()); returns the
        digest the registry keeps it under. An error in the stream, or time_limit seconds passing,
        raises EngineError."""
        response = self._request(
            "POST",
            f"/images/{repository}/push",
            params={"tag": tag},
            headers={"X-Registry-Auth": auth},
            stream=True,
            timeout=None,
        )
        digest = ""
        for message in _progress_within(response, time_limit):
            digest = (message.get("aux") or {}).get("Digest") or digest
        if not digest:
            raise EngineError(f"the engine's push of {repository}:{tag} named no digest")
        return digest

    def check_login(self, server: str, username: str, password: str) -> None:
        """Asks the engine to log in to server with these credentials; refused, EngineError."""
        self._json("POST", "/auth", json={"serveraddress": server, "username": username, "password": password})

    def build_image(
        self, context: Body, tag: str, buildargs: dict[str, str], time_limit: Optional[float] = None, **options
    ) -> Iterator[dict]:
        """Builds an image; options are the build API's parameters (memory, cpuquota,
        cgroupparent, ...). After
        time_limit seconds of building, the connection is closed, which makes the engine cancel
        the build, and an EngineError says so."""
        params = {"t": tag, "buildargs": _json_param(buildargs), "rm": 1, "forcerm": 1, **options}
        headers = {"Content-Type": "application/x-tar"}
        response = self._request(
            "POST", "/build", params=params, data=context, headers=headers, stream=True, timeout=None
        )
        return _progress(response) if time_limit is None else _progress_within(response, time_limit)

    # -- volumes --------------------------------------------------------------------------
    def create_volume(self, name: str, labels: dict[str, str]) -> None:
        self._request("POST", "/volumes/create", json={"Name": name, "Labels": labels})

    def volume_exists(self, name: str) -> bool:
        try:
            self._request("GET", f"/volumes/{name}")
        except EngineNotFound:
            return False
        return True

    def remove_volume(self, name: str) -> None:
        try:
            self._request("DELETE", f"/volumes/{name}", params={"force": 1})
        except EngineNotFound:
            pass

    # -- networks -------------------------------------------------------------------------
    def create_network(
        self,
        name: str,
        labels: dict[str, str],
        options: Optional[dict[str, str]] = None,
        internal: bool = False,
        ipam: Optional[list[dict]] = None,
        ipv6: Optional[bool] = None,
        driver: str = "bridge",
    ) -> str:
        """A user-defined network (driver: bridge, or overlay across a swarm): its containers find
        each other by name and alias; options are the bridge driver's
        (`com.docker.network.bridge.enable_icc`, ...); internal: no way out through it; ipam: its
        subnets (`Subnet`, `IPRange`), else the engine picks one; ipv6: IPv6 on or off (None: the
        engine's default)."""
        config = {"Name": name, "Driver": driver, "CheckDuplicate": True, "Labels": labels, "Options": options or {}}
        if internal:
            config["Internal"] = True
        if ipv6 is not None:
            config["EnableIPv6"] = ipv6
        if ipam:
            config["IPAM"] = {"Driver": "default", "Config": ipam}
        return self._json("POST", "/networks/create", json=config)["Id"]

    def ensure_network(
        self, name: str, labels: dict[str, str], options: Optional[dict[str, str]] = None, driver: str = "bridge"
    ) -> dict:
        """Creates the network unless one of that name is there already (asked first: the engine
        logs every refused create); returns what the engine says of it."""
        try:
            return self.inspect_network(name)
        except EngineNotFound:
            pass
        try:
            self.create_network(name, labels, options, driver=driver)
        except EngineError as error:
            if error.status != 409:
                raise
        return self.inspect_network(name)

    def inspect_network(self, name: str) -> dict:
        return self._json("GET", f"/networks/{name}")

    def list_networks(self) -> list[dict]:
        """Every network (by exact name, unlike inspect_network, which also takes an id prefix)."""
        return self._json("GET", "/networks")

    def containers_on_network(self, network: str) -> list[dict]:
        """The containers attached to the network, stopped ones too (they are not its endpoints,
        yet cannot start once it is gone). The engine's filter also takes the network's id or a
        prefix of it: only those on the network of that exact name are kept."""
        params = {"all": 1, "filters": _json_param({"network": [network]})}
        found = self._json("GET", "/containers/json", params=params)
        return [entry for entry in found if network in ((entry.get("NetworkSettings") or {}).get("Networks") or {})]

    def connect_network(self, network: str, container_id: str, aliases: list[str], address: str = "") -> None:
        """Attaches a container (running or not) to one more network, known there by aliases too,
        at address where one is given (kept across its starts)."""
        endpoint: dict = {"Aliases": aliases}
        if address:
            endpoint["IPAMConfig"] = {"IPv4Address": address}
        self._request(
            "POST", f"/networks/{network}/connect", json={"Container": container_id, "EndpointConfig": endpoint}
        )

    def disconnect_network(self, network: str, container_id: str) -> None:
        try:
            self._request("POST", f"/networks/{network}/disconnect", json={"Container": container_id, "Force": True})
        except EngineNotFound:
            pass

    def remove_network(self, network_id: str) -> None:
        try:
            self._request("DELETE", f"/networks/{network_id}")
        except EngineNotFound:
            pass

    # -- swarm (a manager's engine) -------------------------------------------------------
    def swarm(self) -> Optional[dict]:
        """The swarm this engine manages (its join tokens among it); None when it manages none."""
        try:
            return self._json("GET", "/swarm")
        except EngineError as error:
            if error.status in (503, 406):  # not a manager; not in a swarm
                return None
            raise

    def init_swarm(self, advertise_addr: str) -> str:
        """Makes this engine the manager of a new swarm; returns its node id."""
        spec = {"ListenAddr": "0.0.0.0:2377", **({"AdvertiseAddr": advertise_addr} if advertise_addr else {})}
        return self._json("POST", "/swarm/init", json=spec)

    def nodes(self) -> list[dict]:
        return self._json("GET", "/nodes")

    def inspect_node(self, node_id: str) -> dict:
        return self._json("GET", f"/nodes/{node_id}")

    def remove_node(self, node_id: str, force: bool) -> None:
        self._request("DELETE", f"/nodes/{node_id}", params={"force": int(force)})

    def create_service(self, spec: dict, auth: str) -> str:
        """auth: an X-Registry-Auth value the nodes pull the image with ("" for none)."""
        headers = {"X-Registry-Auth": auth} if auth else {}
        return self._json("POST", "/services/create", json=spec, headers=headers)["ID"]

    def inspect_service(self, service_id: str) -> dict:
        return self._json("GET", f"/services/{service_id}")

    def update_service(self, service_id: str, version: int, spec: dict) -> None:
        """Replaces the service's spec (version: the one it was read at, as the engine demands),
        keeping the registry credentials it was created with."""
        params = {"version": version, "registryAuthFrom": "spec"}
        self._json("POST", f"/services/{service_id}/update", params=params, json=spec)

    def remove_service(self, service_id: str) -> None:
        try:
            self._request("DELETE", f"/services/{service_id}")
        except EngineNotFound:
            pass

    def list_services(self, labels: dict[str, str]) -> list[dict]:
        filters = {"label": [f"{key}={value}" for key, value in labels.items()]}
        return self._json("GET", "/services", params={"filters": _json_param(filters)})

    def list_tasks(self, filters: dict[str, list[str]]) -> list[dict]:
        """The tasks filters select; none for a service filter naming a service that is gone."""
        try:
            return self._json("GET", "/tasks", params={"filters": _json_param(filters)})
        except EngineNotFound:
            return []

    def inspect_task(self, task_id: str) -> dict:
        return self._json("GET", f"/tasks/{task_id}")

    def task_logs(
        self, task_id: str, follow: bool = False, tail: Optional[int] = None, timestamps: bool = False
    ) -> Iterator[tuple[int, str]]:
        """Yields (stream id, line) of a task's container, wherever in the swarm it runs."""
        params = {"stdout": 1, "stderr": 1, "follow": int(follow), "timestamps": int(timestamps)}
        if tail is not None:
            params["tail"] = tail
        # a node that went away can leave a task's log unanswered: only a follow waits for ever
        timeout = (DEFAULT_TIMEOUT, None if follow else DEFAULT_TIMEOUT)
        response = self._request("GET", f"/tasks/{task_id}/logs", params=params, stream=True, timeout=timeout)
        return streams.lines(streams.demultiplex(response.iter_content(chunk_size=None)))


def _json_param(value) -> str:
    return json.dumps(value)


def _until_closed(response) -> Iterator[dict]:
    """The JSON messages of a stream that ends only when the engine closes it (or breaks it off,
    as a stopping engine may)."""
    try:
        yield from streams.json_messages(response.iter_lines())
    except (*_transport().STREAM_ERRORS, OSError):
        return
    finally:
        response.close()


def _progress(response) -> Iterator[dict]:
    """Decodes a progress stream; an `error` message in it becomes an EngineError."""
    for message in streams.json_messages(response.iter_lines()):
        if "error" in message:
            raise EngineError(message.get("error") or "the engine reported an error")
        yield message


def _progress_within(response, time_limit: float) -> Iterator[dict]:
    """_progress, until time_limit seconds have passed: then the connection is shut down (a
    shutdown, unlike a close, also wakes the read waiting on it)."""
    expired = threading.Event()

    def hang_up() -> None:
        expired.set()
        connection = response.raw.connection
        if connection is not None and connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(time_limit, hang_up)
    timer.daemon = True
    timer.start()
    try:
        yield from _progress(response)
    except (EngineError, *_transport().STREAM_ERRORS, OSError):
        if not expired.is_set():
            raise
    finally:
        timer.cancel()
        response.close()
    if expired.is_set():
        raise EngineError(f"stopped after {time_limit:g} s, the time limit")


def _error_from(response) -> EngineError:
    try:
        message = response.json().get("message", response.text)
    except ValueError:
        message = response.text
    message = message.strip() or f"HTTP {response.status_code}"
    if response.status_code == 404:
        return EngineNotFound(message, 404)
    return EngineError(f"Docker engine: {message}", response.status_code)


def registry_auth(server: str, credentials: Optional[tuple[str, str]]) -> str:
    """The X-Registry-Auth header's value for server: base64url of the credentials' JSON (none:
    an empty object, which the engine's push still asks for)."""
    user = {"username": credentials[0], "password": credentials[1], "serveraddress": server} if credentials else {}
    return base64.urlsafe_b64encode(json.dumps(user).encode()).decode()
