"""Configuration: shipyard.yaml loaded once into typed, validated objects."""

from shipyard.config.loader import Config, find_config, load, parse
from shipyard.config.schema import ProjectConfig, Service

__all__ = ["Config", "ProjectConfig", "Service", "find_config", "load", "parse"]
