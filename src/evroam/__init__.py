"""evroam: an OCPI platform. Run a CPO, eMSP or Hub node that registers, pulls, pushes, routes and prices."""

__version__ = "0.1.0"

from evroam.app import create_app
from evroam.client import OcpiClient, UrlPolicy
from evroam.config import Settings
from evroam.errors import OcpiError, StatusCode
from evroam.node import Node

__all__ = [
    "Node",
    "OcpiClient",
    "OcpiError",
    "Settings",
    "StatusCode",
    "UrlPolicy",
    "__version__",
    "create_app",
]
