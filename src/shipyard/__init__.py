"""Shipyard: a deployment toolkit built on Invoke, Fabric and Docker."""

__version__ = "0.1.0"
