"""argv builders for the helm CLI (v3 and v4). Rendering and linting use the Helm SDK in-process
(shipyard.k8s.helm); these are the commands that talk to a cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Argv = list[str]
HELM = "helm"


def base(context: str | None = None, namespace: str | None = None) -> Argv:
    argv = [HELM]
    if context:
        argv += ["--kube-context", context]
    if namespace:
        argv += ["--namespace", namespace]
    return argv


def version() -> Argv:
    """Prints e.g. v3.16.2 or v4.0.1 (the template works in both majors)."""
    return [HELM, "version", "--template", "{{.Version}}"]


def rollback_on_failure_flag(major: int) -> str:
    """Helm 4 renamed --atomic to --rollback-on-failure."""
    return "--rollback-on-failure" if major >= 4 else "--atomic"


def upgrade_install(release: str, chart: str, *, context: str, namespace: str, values: Sequence[str] = (),
                    set_string: Mapping[str, str] | None = None, helm_major: int = 4, timeout: int = 300,
                    create_namespace: bool = True, dry_run: bool = False) -> Argv:
    """Install or upgrade; wait for every resource to be ready; roll back by itself if that fails."""
    argv = [*base(context, namespace), "upgrade", release, chart, "--install",
            rollback_on_failure_flag(helm_major), "--wait", f"--timeout={timeout}s", "--history-max=10"]
    if create_namespace:
        argv.append("--create-namespace")
    for path in values:
        argv += ["--values", path]
    for key, value in sorted((set_string or {}).items()):
        argv += ["--set-string", f"{key}={value}"]
    if dry_run:
        argv.append("--dry-run=server")
    return argv


def rollback(release: str, revision: int | None = None, *, context: str, namespace: str,
             timeout: int = 300) -> Argv:
    """Back to `revision`, or to the previous one when None."""
    argv = [*base(context, namespace), "rollback", release]
    if revision is not None:
        argv.append(str(revision))
    return [*argv, "--wait", f"--timeout={timeout}s"]


def history(release: str, *, context: str, namespace: str, max_revisions: int = 20) -> Argv:
    return [*base(context, namespace), "history", release, "--output", "json", f"--max={max_revisions}"]


def get_values(release: str, revision: int, *, context: str, namespace: str) -> Argv:
    return [*base(context, namespace), "get", "values", release, f"--revision={revision}", "--output", "json"]


def test(release: str, *, context: str, namespace: str, timeout: int = 180) -> Argv:
    """Run the chart's test hooks (the health check through the Services) and print their logs."""
    return [*base(context, namespace), "test", release, "--logs", f"--timeout={timeout}s"]


def uninstall(release: str, *, context: str, namespace: str, timeout: int = 300) -> Argv:
    return [*base(context, namespace), "uninstall", release, "--wait", f"--timeout={timeout}s"]
