"""The typed errors of the core. The CLI turns each into a one-line message and an exit code."""


class MinidokkuError(Exception):
    """Base of every error the core raises on purpose; its message is shown to the user as is."""

    exit_code = 1


class ValidationError(MinidokkuError):
    """User input (a name, a key, an option) is not acceptable."""


class NotFound(MinidokkuError):
    """The app, key or other named thing does not exist."""


class AppNotFound(NotFound):
    """The app does not exist: Dokku's verify_app_name, its words and exit code 20, which scripts
    test for."""

    exit_code = 20

    def __init__(self, app: str):
        super().__init__(f"App {app} does not exist")


class NothingChanged(MinidokkuError):
    """What a deploy was given is what the app has already (Dokku's git-from-directory): nothing
    is committed or deployed."""


class AlreadyExists(MinidokkuError):
    """The named thing exists already."""


class PermissionDenied(MinidokkuError):
    """The caller may not do this."""


class AppNotGranted(AppNotFound, PermissionDenied):
    """A user key named an app not granted to it: refused (and recorded as a refusal) in the very
    words and exit code of a missing app, so that a key learns nothing of the apps it may not see."""


class Locked(MinidokkuError):
    """Another deploy or command holds the app's lock."""


class NotSupported(MinidokkuError):
    """What was asked is something the app's scheduler cannot do (runtime/swarm_scheduler.py)."""


class BuildFailed(MinidokkuError):
    """The build of a pushed commit did not produce an image."""


class DeployFailed(MinidokkuError):
    """New containers did not start or did not pass their checks; the old release still serves."""


class ProxyError(MinidokkuError):
    """nginx refused a configuration or could not be reloaded."""


class EngineError(MinidokkuError):
    """The Docker engine answered with an error, or does not answer."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class EngineNotFound(EngineError):
    """The engine has no such container or image (HTTP 404)."""


class GitError(MinidokkuError):
    """A git command failed."""


class TriggerFailed(MinidokkuError):
    """A plugin's trigger exited non-zero: the step it guards does not happen."""
