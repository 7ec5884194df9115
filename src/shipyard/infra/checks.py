"""The offline check runs behind `infra.check` and `infra.workflows`: each step runs its tool through
the runner, turns its findings into one-line problems and reports one summary line."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from shipyard.commands import checks as cmd
from shipyard.commands import terraform as tf
from shipyard.errors import ShipyardError
from shipyard.infra import tools
from shipyard.infra.hcl import display
from shipyard.infra.problems import Problem
from shipyard.run.base import Runner

Report = Callable[[str], None]
TF_ERROR_RE = re.compile(r"Error: (.+?)\s*$")
TF_WHERE_RE = re.compile(r"on (\S+) line (\d+)")
LINT_LINE_RE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def _say(report: Report, step: str, message: str) -> None:
    report(f"{step:<9} {message}")


def diagnostics(stderr: str, base: Path | None, label: str) -> list[Problem]:
    """terraform's `Error: summary` + `on FILE line N` diagnostics as one problem each (FILE under base)."""
    problems = []
    error = None
    for line in stderr.splitlines():
        clean = tools.ANSI_RE.sub("", line).strip(" │╷╵")
        if (m := TF_ERROR_RE.search(clean)) is not None:
            if error:
                problems.append(Problem(display(base) if base else label, 0, f"{label}: {error}"))
            error = m.group(1)
        elif (w := TF_WHERE_RE.search(clean)) is not None and error:
            where = base / w.group(1) if base else Path(w.group(1))
            problems.append(Problem(display(where), int(w.group(2)), f"{label}: {error}"))
            error = None
    if error:
        problems.append(Problem(display(base) if base else label, 0, f"{label}: {error}"))
    return problems


def fmt_problems(exit_code: int, stdout: str, stderr: str) -> list[Problem]:
    """terraform fmt -check: exit 3 lists unformatted files; exit 2 prints diagnostics for unparsable ones."""
    if exit_code == 0:
        return []
    if exit_code == 3 or (stdout.strip() and not stderr.strip()):
        return [Problem(display(Path(line.strip())), 0, "not in canonical format (run `invoke infra.fmt`)")
                for line in stdout.splitlines() if line.strip()]
    problems = diagnostics(stderr, None, "terraform fmt")
    if not problems:
        problems.append(Problem("terraform fmt", 0, f"failed with exit code {exit_code}: "
                                                    f"{tools.terraform_error(stderr)}"))
    return problems


def _fmt(target: Path, runner: Runner, report: Report) -> list[Problem]:
    try:
        binary = tools.terraform()
    except ShipyardError as exc:
        _say(report, "fmt", f"could not run: {exc}")
        return [Problem("terraform fmt", 0, f"could not run: {exc}")]
    argv = [binary, *tf.fmt(display(target))[1:]]
    result = runner.run(argv, env=tools.terraform_env(), check=False, timeout=120)
    problems = fmt_problems(result.exit_code, result.stdout, result.stderr)
    _say(report, "fmt", f"terraform fmt -check -recursive: {len(problems) or 'no'} problem(s)")
    return problems


def _hcl(target: Path, report: Report) -> list[Problem]:
    from shipyard.infra.checkov_tf import unreasoned_skips
    from shipyard.infra.tfcheck import check_tree

    result = check_tree(target)
    problems = result.problems + unreasoned_skips(target)
    _say(report, "hcl", f"{result.files} file(s) in {result.modules} module(s), syntax and references: "
                        f"{len(problems) or 'no'} problem(s)")
    if result.files == 0:
        problems.append(Problem(display(target), 0, "no .tf file found"))
    return problems


def _checkov(target: Path, root: Path, runner: Runner, report: Report) -> list[Problem]:
    from shipyard.infra.checkov_tf import ENV, parse_report

    try:
        checkov = tools.checkov(root)
    except ShipyardError as exc:
        _say(report, "checkov", f"COULD NOT RUN, policy scan skipped: {exc}")
        return []
    result = runner.run(cmd.checkov_terraform(checkov, str(target)), env=ENV, check=False, timeout=600)
    if result.exit_code not in (0, 1):
        last = (result.stderr.strip().splitlines() or ["no error output"])[-1]
        return [Problem("checkov", 0, f"failed with exit code {result.exit_code}: {last}")]
    problems, summary = parse_report(result.stdout, target)
    _say(report, "checkov", f"{summary.resources} resource(s): {summary.passed} passed, {summary.failed} failed, "
                            f"{summary.skipped} skipped with a written reason")
    return problems


def root_modules(target: Path) -> list[Path]:
    """The folders `terraform validate` runs in: every environment and every module example."""
    found = [*target.glob("environments/*"), *target.glob("modules/*/examples/*")]
    return sorted(p for p in found if p.is_dir() and any(p.glob("*.tf")))


def _validate(target: Path, runner: Runner, report: Report) -> list[Problem]:
    """`terraform init -backend=false` + `terraform validate` in each root module: needs the provider, so
    the network (GitHub's runners have it; offline machines do not)."""
    binary = tools.terraform()
    env = {**tools.terraform_env(), "TF_PLUGIN_CACHE_DIR": str(tools.plugin_cache())}
    problems: list[Problem] = []
    folders = root_modules(target)
    for folder in folders:
        chdir = display(folder)
        init = runner.run([binary, *tf.init(chdir)[1:], "-no-color"], env=env, check=False, timeout=600)
        if init.exit_code != 0:
            problems.append(Problem(chdir, 0, f"terraform init failed: {tools.terraform_error(init.stderr)}"))
            continue
        result = runner.run([binary, *tf.validate(chdir)[1:]], env=env, check=False, timeout=300)
        if result.exit_code != 0:
            problems += diagnostics(result.stderr, folder, "terraform validate") or [
                Problem(chdir, 0, f"terraform validate: {tools.terraform_error(result.stderr)}")]
    _say(report, "validate", f"{len(folders)} root module(s), terraform validate: {len(problems) or 'no'} problem(s)")
    return problems


def run_all(target: Path, root: Path, runner: Runner, *, checkov: bool = True, validate: bool = False,
            report: Report = print) -> list[Problem]:
    """fmt, HCL syntax and references, optionally terraform validate, then checkov; every problem, in order."""
    problems = _fmt(target, runner, report)
    problems += _hcl(target, report)
    if validate:
        problems += _validate(target, runner, report)
    if checkov:
        problems += _checkov(target, root, runner, report)
    else:
        _say(report, "checkov", "skipped (--skip-checkov)")
    return problems


def lint_lines(stdout: str) -> list[Problem]:
    """`file:line:col: message` lines (actionlint -oneline, yamllint -f parsable) as problems."""
    out = []
    for line in stdout.splitlines():
        m = LINT_LINE_RE.match(line.strip())
        if m:
            out.append(Problem(display(Path(m["file"])), int(m["line"]), f"{m['message']} (col {m['col']})"))
        elif line.strip():
            out.append(Problem("lint", 0, line.strip()))
    return out


def _linter(step: str, argv: list[str], runner: Runner, report: Report) -> list[Problem]:
    result = runner.run(argv, check=False, timeout=300)
    if result.exit_code not in (0, 1):
        last = (result.stderr.strip().splitlines() or ["no error output"])[-1]
        return [Problem(step, 0, f"failed with exit code {result.exit_code}: {last}")]
    problems = lint_lines(result.stdout) if result.exit_code == 1 else []
    _say(report, step, f"{len(problems) or 'no'} problem(s)")
    return problems


def workflows(folder: Path, root: Path, runner: Runner, *, report: Report = print) -> list[Problem]:
    """actionlint (with shellcheck on every run: script), yamllint --strict, then Shipyard's CI rules."""
    from shipyard.infra.workflows import check_workflow, workflow_files

    files = workflow_files(folder)
    if not files:
        return [Problem(display(folder), 0, "no workflow files (*.yml, *.yaml)")]
    names = [display(f) for f in files]
    shellcheck = tools.python_tool("shellcheck")
    problems = _linter("actionlint", cmd.actionlint(tools.python_tool("actionlint"), names, shellcheck=shellcheck),
                       runner, report)
    config = root / ".github" / "yamllint.yml"
    problems += _linter("yamllint", cmd.yamllint(tools.python_tool("yamllint"), names,
                                                 config=display(config) if config.is_file() else None),
                        runner, report)
    policy = [p for f in files for p in check_workflow(f)]
    _say(report, "policy", f"{len(files)} workflow(s), run steps call only nox/invoke/scripts, actions pinned: "
                           f"{len(policy) or 'no'} problem(s)")
    return problems + policy
