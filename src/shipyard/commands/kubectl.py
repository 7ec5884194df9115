"""argv builders for kubectl. Every cluster command names its context explicitly: a deploy never depends on
whichever context happens to be current (the production guard compares the two separately)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

Argv = list[str]
KUBECTL = "kubectl"


def base(context: str | None = None, namespace: str | None = None) -> Argv:
    argv = [KUBECTL]
    if context:
        argv += ["--context", context]
    if namespace:
        argv += ["--namespace", namespace]
    return argv


def current_context() -> Argv:
    return [KUBECTL, "config", "current-context"]


def contexts() -> Argv:
    return [KUBECTL, "config", "get-contexts", "--output", "name"]


def server_version(context: str, timeout: str = "10s") -> Argv:
    """Reaches the API server: fails fast when the cluster is down or unreachable."""
    return [*base(context), "version", "--output", "json", f"--request-timeout={timeout}"]


def apply_kustomize(context: str, directory: str, *, server_dry_run: bool = False) -> Argv:
    argv = [*base(context), "apply", "--kustomize", directory]
    if server_dry_run:
        argv.append("--dry-run=server")
    return argv


def apply_stdin(context: str, namespace: str | None = None) -> Argv:
    """`kubectl apply -f -`: the manifest (a Secret, say) travels on stdin, never on the command line."""
    return [*base(context, namespace), "apply", "--filename", "-"]


def diff_stdin(context: str) -> Argv:
    """Exit 0: no differences, 1: differences, >1: error."""
    return [*base(context), "diff", "--filename", "-"]


def rollout_status(context: str, namespace: str, workload: str, timeout: int) -> Argv:
    return [*base(context, namespace), "rollout", "status", workload, f"--timeout={timeout}s"]


def rollout_undo(context: str, namespace: str, workload: str, to_revision: int | None = None) -> Argv:
    argv = [*base(context, namespace), "rollout", "undo", workload]
    if to_revision is not None:
        argv.append(f"--to-revision={to_revision}")
    return argv


def get_json(context: str, namespace: str, kinds: Sequence[str], selector: str | None = None) -> Argv:
    argv = [*base(context, namespace), "get", ",".join(kinds), "--output", "json"]
    if selector:
        argv += ["--selector", selector]
    return argv


def logs(context: str, namespace: str, selector: str, *, tail: int = 100, follow: bool = False,
         since: str | None = None, container: str | None = None) -> Argv:
    argv = [*base(context, namespace), "logs", "--selector", selector, f"--tail={tail}", "--prefix",
            "--timestamps", "--max-log-requests=10"]
    if container:
        argv += ["--container", container]
    else:
        argv.append("--all-containers")
    if since:
        argv.append(f"--since={since}")
    if follow:
        argv.append("--follow")
    return argv


def running_pods(context: str, namespace: str, selector: str) -> Argv:
    """The names (`pod/NAME`) of the running pods a selector picks."""
    return [*base(context, namespace), "get", "pods", "--selector", selector, "--field-selector=status.phase=Running",
            "--output", "name"]


def exec_(context: str, namespace: str, pod: str, container: str, command: Sequence[str], *,
          stdin: bool = False) -> Argv:
    """Run `command` in one container of a pod; `stdin`: attach this process's standard input."""
    return [*base(context, namespace), "exec", *(["--stdin"] if stdin else []), pod, "--container", container, "--",
            *command]


def get_namespace(context: str, namespace: str) -> Argv:
    return [*base(context), "get", "namespace", namespace, "--output", "name"]


def create_namespace(context: str, namespace: str) -> Argv:
    return [*base(context), "create", "namespace", namespace]


def probe_pod(context: str, namespace: str, name: str, image: str, urls: Sequence[str],
              labels: Mapping[str, str], timeout: int = 120) -> Argv:
    """A short-lived curl pod that calls each URL through its Service, then removes itself.

    Its exit code is curl's: non-zero as soon as one URL fails. The pod satisfies the "restricted" Pod
    Security profile so it starts in namespaces that enforce it.
    """
    overrides = {
        "apiVersion": "v1",
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": name,
                "image": image,
                "args": ["--fail-early", "--fail", "--silent", "--show-error", "--max-time", "5", "--retry", "5",
                         "--retry-connrefused", "--output", "/dev/null", "--write-out",
                         "%{url_effective} %{http_code}\\n", *urls],
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                              "limits": {"cpu": "100m", "memory": "64Mi"}},
            }],
        },
    }
    label_arg = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    return [*base(context, namespace), "run", name, "--rm", "--attach", "--quiet", "--restart=Never",
            f"--image={image}", f"--labels={label_arg}", f"--pod-running-timeout={timeout}s",
            f"--overrides={json.dumps(overrides, separators=(',', ':'), sort_keys=True)}"]
