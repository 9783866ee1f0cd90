"""evroam: an OCPI platform. Run a CPO, eMSP or Hub node that registers, pulls, pushes, routes and prices."""

__version__ = "0.1.0"

__all__ = ["__version__"]
