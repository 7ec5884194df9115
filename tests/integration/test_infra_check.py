"""`invoke infra.check` with the real terraform fmt and python-hcl2 on the repository's modules, and on broken
copies in tmp_path: each breakage fails with one clear line naming the file and line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.infra import checks
from shipyard.infra.tfcheck import check_tree
from shipyard.run import DryRunRunner, LocalRunner
from tools import need_tool

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).parent / "invoke")
TERRAFORM = shutil.which("terraform") or ("/usr/local/bin/terraform" if Path("/usr/local/bin/terraform").is_file()
                                          else None)
needs_terraform = pytest.mark.tool("terraform")  # the HCL checks below run without it


def invoke(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null", **(env or {})}
    full.pop("SHIPYARD_CONFIG", None)
    return subprocess.run([INVOKE, "--search-root", str(ROOT), *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the repository's terraform/ folder, to break."""
    target = tmp_path / "terraform"
    shutil.copytree(ROOT / "terraform", target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@needs_terraform
def test_repository_terraform_passes_fmt_and_hcl_checks() -> None:
    result = invoke("infra.check", "--skip-checkov", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "fmt       terraform fmt -check -recursive: no problem(s)"
    assert lines[1].startswith("hcl       ") and lines[1].endswith("syntax and references: no problem(s)")
    files = int(lines[1].split()[1])
    assert files == len(list((ROOT / "terraform").rglob("*.tf"))) and files >= 40
    assert lines[-1] == "infra.check: terraform ok"


def test_every_module_directory_is_read() -> None:
    report = check_tree(ROOT / "terraform")
    assert report.problems == []
    # 6 modules (5 building blocks + shipyard-stack), 6 examples, 3 environments
    assert report.modules == 15


@needs_terraform
def test_syntax_error_is_one_line_with_file_and_line(tree: Path) -> None:
    edit(tree / "modules/network/main.tf", "  region      = var.region\n", "  region      = \n")
    result = invoke("infra.check", "--skip-checkov", "--dir", str(tree), cwd=tree.parent)
    assert result.returncode == 1
    assert "terraform/modules/network/main.tf:4: syntax error: unexpected" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: infra.check: ")


@needs_terraform
def test_undeclared_variable(tree: Path) -> None:
    edit(tree / "environments/staging/main.tf", "= var.ssh_source_addresses", "= var.ssh_sources")
    result = invoke("infra.check", "--skip-checkov", "--dir", str(tree), cwd=tree.parent)
    assert result.returncode == 1
    assert ("terraform/environments/staging/main.tf:11: undeclared variable var.ssh_sources; did you mean "
            "'ssh_source_addresses'?") in result.stdout.splitlines()
    assert "error: infra.check: 1 problem(s) in terraform (next: fix the lines above" in result.stderr


@needs_terraform
def test_missing_module_path(tree: Path) -> None:
    edit(tree / "environments/production/main.tf", '"../../modules/shipyard-stack"', '"../../modules/stack"')
    edit(tree / "modules/shipyard-stack/main.tf", '"../database"', '"../databse"')
    result = invoke("infra.check", "--skip-checkov", "--dir", str(tree), cwd=tree.parent)
    assert result.returncode == 1
    problem = [line for line in result.stdout.splitlines() if "does not exist" in line]
    assert problem == ["terraform/environments/production/main.tf:3: module 'stack': source "
                       "../../modules/stack does not exist (looked for terraform/modules/stack)",
                       "terraform/modules/shipyard-stack/main.tf:55: module 'database': source "
                       "../databse does not exist (looked for terraform/modules/databse)"]


@needs_terraform
def test_bad_formatting(tree: Path) -> None:
    edit(tree / "modules/registry/main.tf", "  name                   = var.name", "  name = var.name")
    result = invoke("infra.check", "--skip-checkov", "--dir", str(tree), cwd=tree.parent)
    assert result.returncode == 1
    assert ("terraform/modules/registry/main.tf: not in canonical format (run `invoke infra.fmt`)"
            in result.stdout.splitlines())
    fixed = invoke("infra.fmt", "--dir", str(tree), cwd=tree.parent)
    assert fixed.returncode == 0 and "formatted 1 file(s)" in fixed.stdout
    assert invoke("infra.check", "--skip-checkov", "--dir", str(tree), cwd=tree.parent).returncode == 0


@pytest.mark.parametrize(("file", "old", "new", "expected"), [
    ("modules/shipyard-stack/main.tf", "  region   = var.region\n  ip_range", "  region   = var.region\n"
     "  cidr     = 1\n  ip_range", "modules/shipyard-stack/main.tf:18: module 'network': unknown input 'cidr' "
     "(declared: description, ip_range, name, region)"),
    ("modules/shipyard-stack/main.tf", "  droplet_tag      = module.cluster.tag\n", "",
     "modules/shipyard-stack/main.tf:44: module 'loadbalancer': required input 'droplet_tag' is not set "
     "(declared at "),
    ("environments/dev/main.tf", "  droplet_size  =", "  droplet_sise  =",
     "environments/dev/main.tf:16: module 'stack': unknown input 'droplet_sise'; did you mean 'droplet_size'?"),
    ("environments/dev/main.tf", "  deploy_public_keys   = var.deploy_public_keys\n", "",
     "environments/dev/main.tf:3: module 'stack': required input 'deploy_public_keys' is not set (declared at "),
    ("environments/dev/outputs.tf", "module.stack.shipyard_hosts", "module.stack.hosts",
     "environments/dev/outputs.tf:4: module.stack.hosts: module 'stack' (../../modules/shipyard-stack) has no "
     "output 'hosts'"),
    ("modules/shipyard-stack/main.tf", 'name     = local.prefix', 'name     = local.prefx',
     "modules/shipyard-stack/main.tf:16: undeclared local value local.prefx; did you mean 'prefix'?"),
    ("modules/droplet-cluster/main.tf", "# checkov:skip=CKV_DIO_2:ssh_keys is var.ssh_key_fingerprints, whose "
     "validation rejects an empty list", "# checkov:skip=CKV_DIO_2",
     "modules/droplet-cluster/main.tf:26: checkov suppression CKV_DIO_2 has no written reason"),
    ("modules/droplet-cluster/cloud-init.yaml.tftpl", "", "", None),
])
def test_reference_problems(tree: Path, file: str, old: str, new: str, expected: str | None) -> None:
    if old:
        edit(tree / file, old, new)
    lines: list[str] = []
    problems = checks.run_all(tree, tree.parent, DryRunRunner(printer=lambda _l: None), checkov=False,
                              report=lines.append)
    shown = [str(p).replace(str(tree) + "/", "") for p in problems]
    if expected is None:
        assert shown == []
    else:
        assert len(shown) == 1 and shown[0].startswith(expected), shown


def test_checkov_reported_as_not_run_when_missing(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIPYARD_CHECKOV", raising=False)
    if shutil.which("checkov"):
        pytest.skip("a checkov is on PATH here, so it cannot be missing")
    lines: list[str] = []
    problems = checks.run_all(tree, tree.parent, LocalRunner(), checkov=True, report=lines.append)
    assert any(line.startswith("checkov   COULD NOT RUN, policy scan skipped: checkov is not installed")
               for line in lines), lines
    assert all("checkov" not in str(p) for p in problems)


@pytest.mark.slow
def test_checkov_scan_of_the_repository() -> None:
    need_tool("checkov")
    lines: list[str] = []
    problems = checks._checkov(ROOT / "terraform", ROOT, LocalRunner(), lines.append)
    assert problems == []
    summary = lines[-1]
    assert summary.startswith("checkov   ") and " 0 failed" in summary
    resources = int(summary.split()[1])
    assert resources >= 20


@needs_terraform
def test_validate_runs_terraform_validate_in_every_root_module(tmp_path: Path) -> None:
    """Provider-less root modules validate offline; the repository's need the provider (GitHub's runners)."""
    envs = tmp_path / "terraform" / "environments"
    (envs / "ok").mkdir(parents=True)
    (envs / "bad").mkdir()
    (envs / "ok" / "main.tf").write_text('variable "a" {\n  type    = string\n  default = "x"\n}\n\n'
                                         'output "b" {\n  value = var.a\n}\n')
    (envs / "bad" / "main.tf").write_text('output "b" {\n  value = aws_instance.web.id\n}\n')
    result = invoke("infra.check", "--skip-checkov", "--validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "validate  2 root module(s), terraform validate: 1 problem(s)" in result.stdout.splitlines()
    assert ("terraform/environments/bad/main.tf:2: terraform validate: Reference to undeclared resource"
            in result.stdout.splitlines())
    (envs / "bad" / "main.tf").unlink()
    (envs / "bad").rmdir()
    assert invoke("infra.check", "--skip-checkov", "--validate", cwd=tmp_path).returncode == 0


def test_root_modules_are_the_environments_and_examples() -> None:
    names = [str(p.relative_to(ROOT / "terraform")) for p in checks.root_modules(ROOT / "terraform")]
    assert names[:3] == ["environments/dev", "environments/production", "environments/staging"]
    assert len(names) == 9 and all(n.startswith("modules/") and "/examples/" in n for n in names[3:])
