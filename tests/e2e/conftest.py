"""Fixtures of the deploy end-to-end tests (defined in deploybed.py)."""

from deploybed import bed, fixture_images, host, state  # noqa: F401
