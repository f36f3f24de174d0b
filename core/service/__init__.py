"""The hhsync service: the engine's control endpoints on a Unix socket (see `app`)."""

from core.service.listener import ServiceRunningError
from core.service.runner import ControlService, run_service

__all__ = ["ControlService", "ServiceRunningError", "run_service"]
