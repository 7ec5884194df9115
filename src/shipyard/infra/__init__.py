"""Helpers for Terraform, GitHub workflows and secret hygiene: pure analysis, no command execution."""
