"""Charge Point Management System: the domain and the composition root."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cpms")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
