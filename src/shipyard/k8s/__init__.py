"""Kubernetes artifacts as data: render Kustomize overlays and the Helm chart, validate them strictly, scan
them with checkov and compare the two renderers. No cluster is needed for any of it."""
