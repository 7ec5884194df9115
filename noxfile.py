"""Quality gates, identical on a laptop and in CI: `nox -s lint tests smoke` (and `nox -t iac`).

Sessions reuse their virtualenvs (`-r` is the default here) so a second run starts in seconds.
"""

from __future__ import annotations

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"


@nox.session(python=PYTHON, tags=["lint"])
def lint(session: nox.Session) -> None:
    """Static checks: ruff (style, bugs, security), mypy --strict and vulture (dead code) on the package."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", "src", "tests", "bench", "noxfile.py", "tasks.py", *session.posargs)
    session.run("mypy")
    session.run("vulture")


@nox.session(python=PYTHON, tags=["test"])
def tests(session: nox.Session) -> None:
    """The test suite: unit, integration on the real test bed, end-to-end on the sandbox."""
    session.install("-e", ".[dev]")
    session.run("pytest", *(session.posargs or ["tests"]))


@nox.session(python=PYTHON, tags=["coverage"])
def coverage(session: nox.Session) -> None:
    """Opt-in: the unit and integration tests under coverage (the CLI processes they start included), then every
    function of the package that no test ran (`scripts/unrun_functions.py`): dead code that vulture cannot see."""
    session.install("-e", ".[dev]")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-q", *(session.posargs or ["tests/unit", "tests/integration"]))
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "json", "--quiet", "-o", ".coverage-data/coverage.json")
    session.run("python", "scripts/unrun_functions.py", ".coverage-data/coverage.json")


@nox.session(python=PYTHON, tags=["iac"])
def infra(session: nox.Session) -> None:
    """Offline IaC gates: Terraform (fmt, syntax, references, checkov), GitHub workflows, secret scan."""
    session.install("-e", ".[iac]")
    session.run("invoke", "infra.check", *session.posargs)
    session.run("invoke", "infra.workflows")
    session.run("invoke", "secrets.scan")


@nox.session(python=PYTHON, tags=["iac"])
def k8s(session: nox.Session) -> None:
    """Kubernetes gates, offline: render every overlay and values file; strict schemas, lint, checkov, parity."""
    session.install("-e", ".[k8s]")
    session.run("invoke", "k8s.validate", *session.posargs)


@nox.session(python=PYTHON, tags=["test"])
def apps(session: nox.Session) -> None:
    """The reference apps' own tests: api against real PostgreSQL/Redis binaries, the typed API client in node."""
    session.install("-r", "apps/api/requirements.txt", "pytest", "httpx")
    with session.chdir("apps/api"):
        session.run("python", "-m", "pytest", "-q", *session.posargs)
    session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
    session.run("npm", "test", "--workspaces", "--if-present", external=True)


@nox.session(python=PYTHON, tags=["bench"])
def bench(session: nox.Session) -> None:
    """Every benchmark, one table (median, worst, N, target, verdict); slow, opt-in: `-- --only monorepo`."""
    session.install("-e", ".[dev]")
    session.run("python", "bench/run_all.py", *session.posargs)


#: The smoke stack is its own Compose project on its own ports: it starts from nothing, leaves nothing, and never
#: touches a developer's running `invoke docker.up` stack or its data.
SMOKE_ENV = {"COMPOSE_PROJECT_NAME": "shipyard-smoke", "API_PORT": "18000", "WEB_PORT": "13000",
             "POSTGRES_HOST_PORT": "15432", "REDIS_HOST_PORT": "16379"}


@nox.session(python=PYTHON, tags=["e2e"])
def smoke(session: nox.Session) -> None:
    """The local stack from nothing (own project, own ports): up, HTTP and browser checks, removed (`-- --keep`)."""
    # The browser is Debian's chromium (`apt-get install chromium`) driven by Playwright: nothing is downloaded.
    # The page's screenshot is kept in .artifacts/smoke/web.png (git-ignored), whatever the outcome.
    session.install("-e", ".[browser]", env={"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"})
    session.run("python", "-m", "shipyard.targets.browser")  # no chromium: fail now, not after the stack is up
    session.run("invoke", "docker.init", env=SMOKE_ENV)
    session.run("invoke", "docker.down", "--volumes", "--yes", env=SMOKE_ENV)
    session.run("invoke", "docker.up", env=SMOKE_ENV)
    try:
        session.run("invoke", "docker.smoke", "--browser", env=SMOKE_ENV)
    finally:
        if "--keep" not in session.posargs:
            session.run("invoke", "docker.down", "--volumes", "--yes", env=SMOKE_ENV)
