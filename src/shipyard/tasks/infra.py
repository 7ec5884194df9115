"""`infra`: Terraform for the DigitalOcean estate, and the offline checks of Terraform and CI workflows.

    invoke infra.check                     # fmt, syntax + references, checkov: all offline
    invoke infra.plan --env staging        # init against the Spaces backend, plan to a file
    invoke infra.apply --env staging --yes # apply exactly that plan
    invoke infra.hosts --env staging       # droplet addresses for shipyard.yaml
    invoke infra.workflows                 # actionlint + yamllint + CI policy on .github/workflows
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import runner, task

TOKEN_VARS = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")
SPACES_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def _root() -> Path:
    from shipyard.config import find_config
    from shipyard.errors import ShipyardError

    try:
        return find_config().parent
    except ShipyardError:
        return Path.cwd()


def _rel(path: Path) -> str:
    from shipyard.infra.hcl import display

    return display(path)


def _require_credentials(dry_run: bool) -> None:
    """The DigitalOcean token and Spaces keys come from the environment; register them for redaction."""
    from shipyard.errors import ShipyardError
    from shipyard.run.redact import REDACTOR

    if dry_run:
        return
    if not any(os.environ.get(name) for name in TOKEN_VARS):
        raise ShipyardError("DIGITALOCEAN_TOKEN is not set", hint="export DIGITALOCEAN_TOKEN=... (a DigitalOcean "
                            "API token; in CI a GitHub secret)")
    missing = [name for name in SPACES_VARS if not os.environ.get(name)]
    if missing:
        raise ShipyardError(f"{' and '.join(missing)} not set: the state backend (Spaces) needs them",
                            hint="export a Spaces access key pair as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
    for name in (*TOKEN_VARS, *SPACES_VARS):
        value = os.environ.get(name, "")
        if len(value) >= 4:
            REDACTOR.add(value)


@task(help={"dir": "folder holding the Terraform code (default: terraform/ at the repository root)",
            "dry_run": "print the command instead of rewriting files"})
def fmt(c: Any, dir: str | None = None, dry_run: bool = False) -> None:
    """Rewrite every .tf file in Terraform's canonical format (terraform fmt -recursive)."""
    from shipyard.commands import terraform as tf
    from shipyard.infra import tools

    target = Path(dir) if dir else _root() / "terraform"
    binary = tools.terraform() if not dry_run else "terraform"
    result = runner(dry_run).run([binary, *tf.fmt(_rel(target), check=False)[1:]], env=tools.terraform_env())
    changed = [line for line in result.stdout.splitlines() if line.strip()]
    if not dry_run:
        print(f"formatted {len(changed)} file(s)" + (f": {', '.join(changed)}" if changed else ""))


@task(help={"dir": "folder holding the Terraform code (default: terraform/ at the repository root)",
            "skip_checkov": "do not run the checkov policy scan",
            "validate": "also run terraform init -backend=false + validate in every environment and example "
                        "(downloads the provider: needs the network, as on GitHub's runners)"}, default=True)
def check(c: Any, dir: str | None = None, skip_checkov: bool = False, validate: bool = False) -> None:
    """Offline checks: terraform fmt -check, HCL syntax and references (python-hcl2), checkov policy scan."""
    from shipyard.errors import ShipyardError
    from shipyard.infra import checks

    root = _root()
    target = Path(dir).resolve() if dir else root / "terraform"
    if not target.is_dir():
        raise ShipyardError(f"{target}: no such folder", hint="pass --dir with the folder holding your .tf files")
    problems = checks.run_all(target, root, runner(), checkov=not skip_checkov, validate=validate, report=print)
    if problems:
        for problem in problems:
            print(problem)
        raise ShipyardError(f"infra.check: {len(problems)} problem(s) in {_rel(target)}",
                            hint="fix the lines above (`invoke infra.fmt` fixes formatting)")
    print(f"infra.check: {_rel(target)} ok")


@task(help={"env": "Terraform environment (a folder of terraform/environments)",
            "backend_config": "backend settings file (default: <environment>/backend.hcl)",
            "var_file": "extra .tfvars file (terraform.tfvars in the environment is read anyway)",
            "destroy": "plan the destruction of the environment instead",
            "dry_run": "print the terraform commands, run nothing"})
def plan(c: Any, env: str, backend_config: str | None = None, var_file: str | None = None,
         destroy: bool = False, dry_run: bool = False) -> None:
    """Initialise the environment against its state backend and save a plan (tfplan) for infra.apply."""
    from shipyard.commands import terraform as tf
    from shipyard.errors import ShipyardError
    from shipyard.infra import tools
    from shipyard.infra.environments import env_dir

    folder = env_dir(_root(), env)
    backend = Path(backend_config) if backend_config else folder / "backend.hcl"
    if not backend.is_file() and not dry_run:
        raise ShipyardError(f"{_rel(backend)} not found: the state backend is not configured",
                            hint=f"cp {_rel(folder / 'backend.hcl.example')} {_rel(backend)} and edit it")
    _require_credentials(dry_run)
    binary = "terraform" if dry_run else tools.terraform()
    run = runner(dry_run)
    chdir = _rel(folder)
    backend_arg = os.path.relpath(backend.resolve(), folder.resolve())
    for argv in (tf.init(chdir, backend_config=backend_arg),
                 tf.plan(chdir, var_files=[os.path.relpath(Path(var_file).resolve(), folder.resolve())]
                         if var_file else [], destroy=destroy)):
        run.run([binary, *argv[1:]], env=tools.terraform_env(), stream=True, timeout=1800)
    if not dry_run:
        print(f"plan saved to {_rel(folder / tf.PLAN_FILE)}; review it, then: invoke infra.apply --env {env} --yes")


@task(help={"env": "Terraform environment (a folder of terraform/environments)",
            "yes": "confirm: apply the saved plan (required unless --dry-run)",
            "dry_run": "print the terraform command, run nothing"})
def apply(c: Any, env: str, yes: bool = False, dry_run: bool = False) -> None:
    """Apply the plan saved by infra.plan: exactly what was reviewed, nothing re-planned."""
    from shipyard.commands import terraform as tf
    from shipyard.errors import ShipyardError
    from shipyard.infra import tools
    from shipyard.infra.environments import env_dir

    folder = env_dir(_root(), env)
    if not dry_run:
        if not yes:
            raise ShipyardError(f"infra.apply changes real infrastructure of '{env}' and needs --yes",
                                hint=f"review `invoke infra.plan --env {env}`, then add --yes")
        if not (folder / tf.PLAN_FILE).is_file():
            raise ShipyardError(f"no saved plan in {_rel(folder)}", hint=f"run `invoke infra.plan --env {env}` first")
    _require_credentials(dry_run)
    binary = "terraform" if dry_run else tools.terraform()
    runner(dry_run).run([binary, *tf.apply(_rel(folder))[1:]], env=tools.terraform_env(), stream=True, timeout=3600)
    if not dry_run:
        (folder / tf.PLAN_FILE).unlink(missing_ok=True)  # a plan applies once; a stale one must not be reused
        print(f"applied; next: invoke infra.hosts --env {env}")


@task(help={"env": "Terraform environment (a folder of terraform/environments)",
            "format": "yaml (a shipyard.yaml snippet), json (a list) or lines (one host per line)",
            "from_json": "read a saved `terraform output -json` document instead of running terraform",
            "out": "write to this file instead of printing"})
def hosts(c: Any, env: str, format: str = "yaml", from_json: str | None = None, out: str | None = None) -> None:
    """The droplet addresses Terraform created (output shipyard_hosts), ready for shipyard.yaml."""
    from shipyard.commands import terraform as tf
    from shipyard.errors import ShipyardError
    from shipyard.infra import tools
    from shipyard.infra.environments import (
        HOSTS_OUTPUT,
        PRIVATE_OUTPUT,
        USER_OUTPUT,
        env_dir,
        parse_hosts,
        parse_private,
        render_hosts,
    )

    user: str | None = None
    private: list[str] | None = None
    if from_json:
        try:
            text = Path(from_json).read_text(encoding="utf-8")
        except OSError as exc:
            raise ShipyardError(f"{from_json}: cannot read ({exc.__class__.__name__})") from None
        found = parse_hosts(text, HOSTS_OUTPUT)
        user = _user(text)
        private = parse_private(text, found)
    else:
        folder = _rel(env_dir(_root(), env))
        run = runner()
        result = run.run([tools.terraform(), *tf.output(folder, HOSTS_OUTPUT)[1:]], env=tools.terraform_env(),
                         check=False)
        if result.exit_code != 0:
            raise ShipyardError(f"terraform output {HOSTS_OUTPUT} failed in {folder}: "
                                f"{tools.terraform_error(result.stderr)}",
                                hint=f"run `invoke infra.plan --env {env}` (it initialises the state) and apply")
        found = parse_hosts(result.stdout, HOSTS_OUTPUT)
        user_result = run.run([tools.terraform(), *tf.output(folder, USER_OUTPUT)[1:]], env=tools.terraform_env(),
                              check=False)
        if user_result.exit_code == 0:
            user = _user(user_result.stdout)
        private_result = run.run([tools.terraform(), *tf.output(folder, PRIVATE_OUTPUT)[1:]],
                                 env=tools.terraform_env(), check=False)
        if private_result.exit_code == 0:
            private = parse_private(private_result.stdout, found)
    text_out = render_hosts(env, found, user, format, private)
    if out:
        Path(out).write_text(text_out + "\n", encoding="utf-8")
        print(f"wrote {len(found)} host(s) to {out}")
    else:
        print(text_out)


def _user(text: str) -> str | None:
    """The deploy_user output, when Terraform has it (older states may not)."""
    from shipyard.errors import ShipyardError
    from shipyard.infra.environments import USER_OUTPUT, output_value

    try:
        value = output_value(text, USER_OUTPUT)
    except ShipyardError:
        return None
    return value if isinstance(value, str) else None


@task(help={"dir": "folder of workflow files (default: .github/workflows at the repository root)"})
def workflows(c: Any, dir: str | None = None) -> None:
    """Lint the GitHub workflows offline: actionlint (with shellcheck), yamllint, and Shipyard's CI rules."""
    from shipyard.errors import ShipyardError
    from shipyard.infra import checks

    root = _root()
    folder = Path(dir).resolve() if dir else root / ".github" / "workflows"
    problems = checks.workflows(folder, root, runner(), report=print)
    if problems:
        for problem in problems:
            print(problem)
        raise ShipyardError(f"infra.workflows: {len(problems)} problem(s) in {_rel(folder)}",
                            hint="fix the lines above")
    print(f"infra.workflows: {_rel(folder)} ok")


ns = Collection("infra", check, fmt, plan, apply, hosts, workflows)
