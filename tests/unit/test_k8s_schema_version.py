"""Which bundled Kubernetes schema validates a requested version: compared as versions (packaging), by minor."""

from __future__ import annotations

import pytest

from shipyard.errors import ShipyardError
from shipyard.k8s.schema import schema_version


@pytest.mark.parametrize(("desired", "expected"), [("1.30.0", "1.30.0"), ("v1.34", "1.34.0"), ("1.34.7", "1.34.0")])
def test_schema_version_is_the_bundled_minor(desired: str, expected: str) -> None:
    assert schema_version(desired) == expected


@pytest.mark.parametrize(("desired", "message"), [
    ("1.x", "not a Kubernetes version: '1.x'"),
    ("1.2.0", "kubernetes-validate has no schemas for Kubernetes 1.2.0"),
    ("1.999.0", "kubernetes-validate has no schemas for Kubernetes 1.999.0 (newest: 1."),
])
def test_schema_version_refuses_in_one_line(desired: str, message: str) -> None:
    with pytest.raises(ShipyardError) as info:
        schema_version(desired)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
