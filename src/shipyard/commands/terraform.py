"""argv builders for the terraform CLI. Every command is non-interactive (-input=false where it applies).

`chdir` is the root module to work in (terraform's global -chdir option), for example
terraform/environments/staging. The DigitalOcean token is never an argument: the provider reads
DIGITALOCEAN_TOKEN from the environment.
"""

from __future__ import annotations

from collections.abc import Sequence

Argv = list[str]
BINARY = "terraform"
PLAN_FILE = "tfplan"


def _base(chdir: str | None) -> Argv:
    return [BINARY, f"-chdir={chdir}"] if chdir else [BINARY]


def init(chdir: str, *, backend: bool = False, backend_config: str | None = None, upgrade: bool = False) -> Argv:
    """`terraform init`; without a backend (-backend=false) unless a backend config file is given."""
    argv = [*_base(chdir), "init", "-input=false"]
    if backend_config is not None:
        argv.append(f"-backend-config={backend_config}")
    elif not backend:
        argv.append("-backend=false")
    if upgrade:
        argv.append("-upgrade")
    return argv


def fmt(path: str = ".", *, check: bool = True, recursive: bool = True, diff: bool = False) -> Argv:
    """`terraform fmt`: with check, lists the files that are not formatted and exits 3; otherwise rewrites."""
    argv = [BINARY, "fmt"]
    if check:
        argv.append("-check")
    if recursive:
        argv.append("-recursive")
    if diff:
        argv.append("-diff")
    argv += ["-no-color", path]
    return argv


def validate(chdir: str) -> Argv:
    return [*_base(chdir), "validate", "-no-color"]


def plan(chdir: str, *, out: str = PLAN_FILE, var_files: Sequence[str] = (), destroy: bool = False) -> Argv:
    """`terraform plan` saved to a plan file, so that apply applies exactly what was reviewed."""
    argv = [*_base(chdir), "plan", "-input=false", f"-out={out}"]
    argv += [f"-var-file={path}" for path in var_files]
    if destroy:
        argv.append("-destroy")
    return argv


def apply(chdir: str, plan_file: str = PLAN_FILE) -> Argv:
    """`terraform apply` of a saved plan: no prompt, no re-planning, nothing beyond what the plan shows."""
    return [*_base(chdir), "apply", "-input=false", plan_file]


def output(chdir: str, name: str | None = None) -> Argv:
    """`terraform output -json [NAME]`. Ask for one output by name: the full set includes sensitive values."""
    argv = [*_base(chdir), "output", "-no-color", "-json"]
    if name is not None:
        argv.append(name)
    return argv
