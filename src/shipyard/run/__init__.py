"""The single place where commands execute: locally, over SSH, or printed by a dry run."""

from shipyard.run.base import (
    CommandError,
    CommandTimeout,
    HostUnreachable,
    Result,
    Runner,
    UnknownHostKey,
)
from shipyard.run.dryrun import DryRunRunner
from shipyard.run.group import GroupError, on_hosts
from shipyard.run.local import LocalRunner
from shipyard.run.redact import REDACTOR, Redactor
from shipyard.run.ssh import SSHRunner

__all__ = [
    "REDACTOR",
    "CommandError",
    "CommandTimeout",
    "DryRunRunner",
    "GroupError",
    "HostUnreachable",
    "LocalRunner",
    "Redactor",
    "Result",
    "Runner",
    "SSHRunner",
    "UnknownHostKey",
    "on_hosts",
]
