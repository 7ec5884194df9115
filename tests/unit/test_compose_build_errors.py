"""Build failures become one line: step, file, line, error. Real classic-builder outputs plus compiler formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.facts.build import BuildFailure, declared_args, parse_failure
from shipyard.targets.compose import locate

RECORDED = Path(__file__).parent / "compose_recorded"


def test_python_syntax_error_from_compileall() -> None:
    failure = parse_failure((RECORDED / "api_syntax_error.log").read_text())
    assert failure == BuildFailure(step="12/28", instruction="RUN /opt/venv/bin/python -m compileall -q app",
                                   file="app/main.py", line=23, message="SyntaxError: '(' was never closed",
                                   exit_code=1)


def test_next_type_error_with_colour_codes() -> None:
    failure = parse_failure((RECORDED / "web_type_error.log").read_text())
    assert (failure.step, failure.file, failure.line) == ("25/41", "./app/page.tsx", 9)
    assert failure.message == "Type error: Type 'string' is not assignable to type 'number'."
    assert failure.instruction == "RUN npm run build --workspace apps/web"


def test_describe_is_one_line() -> None:
    text = parse_failure((RECORDED / "web_type_error.log").read_text()).describe("web")
    assert "\n" not in text
    assert text.startswith("web: build failed at step 25/41 (RUN npm run build --workspace apps/web): "
                           "./app/page.tsx:9: Type error:")


SWC = """Step 9/12 : RUN npm run build
 ---> Running in 1
Failed to compile.

./app/page.tsx
Error:   x Expected ',', got 'const'
    ,-[/src/apps/web/app/page.tsx:8:1]
  7 | const A = 1
  8 | const B = 2
    : ^^^^^
    `----

Caused by:
    Syntax Error

> Build failed because of webpack errors
The command '/bin/sh -c npm run build' returned a non-zero code: 1
"""

TSC = """Step 4/5 : RUN npx tsc -p .
src/client.ts(14,3): error TS2322: Type 'number' is not assignable to type 'string'.
The command '/bin/sh -c npx tsc -p .' returned a non-zero code: 2
"""

TRACEBACK = """Step 7/9 : RUN python -c 'import app.main'
Traceback (most recent call last):
  File "<string>", line 1, in <module>
  File "/app/app/main.py", line 3, in <module>
    from app import db
  File "/app/app/db.py", line 41, in <module>
    raise RuntimeError("boom")
RuntimeError: boom
The command '/bin/sh -c python -c 'import app.main'' returned a non-zero code: 1
"""

COPY_MISSING = (
    "Step 3/9 : COPY apps/api/requirements.txt /tmp/\n"
    "COPY failed: file not found in build context or excluded by .dockerignore: stat apps/api/requirements.txt:"
    " file does not exist\n")

NPM = """Step 11/38 : RUN npm ci
npm ERR! code E404
npm ERR! 404 Not Found - GET https://registry.npmjs.org/@shipyard%2fnope - Not found
The command '/bin/sh -c npm ci' returned a non-zero code: 1
"""


@pytest.mark.parametrize(("output", "step", "file", "line", "message"), [
    (SWC, "9/12", "/src/apps/web/app/page.tsx", 8, "Error: x Expected ',', got 'const'"),
    (TSC, "4/5", "src/client.ts", 14, "error TS2322: Type 'number' is not assignable to type 'string'."),
    (TRACEBACK, "7/9", "/app/app/db.py", 41, "RuntimeError: boom"),
    (COPY_MISSING, "3/9", None, None, "COPY failed: file not found in build context or excluded by .dockerignore:"
                                      " stat apps/api/requirements.txt: file does not exist"),
    (NPM, "11/38", None, None, "npm ERR! code E404"),
])
def test_compiler_formats(output: str, step: str, file: str | None, line: int | None, message: str) -> None:
    failure = parse_failure(output)
    assert (failure.step, failure.file, failure.line) == (step, file, line)
    assert failure.message == message


def test_output_without_steps_still_gives_a_message() -> None:
    failure = parse_failure("error during connect: Get http://docker/v1.41/info: dial unix: no such file\n")
    assert failure.step is None
    assert "error during connect" in failure.message


def test_locate_maps_container_paths_back_to_the_repository(tmp_path: Path) -> None:
    for rel in ("apps/api/app/main.py", "apps/web/app/page.tsx", "packages/api-client/src/client.ts"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert locate(tmp_path, "app/main.py", "api") == "apps/api/app/main.py"
    assert locate(tmp_path, "/app/app/main.py", "api") == "apps/api/app/main.py"
    assert locate(tmp_path, "./app/page.tsx", "web") == "apps/web/app/page.tsx"
    assert locate(tmp_path, "/src/apps/web/app/page.tsx", "web") == "apps/web/app/page.tsx"
    assert locate(tmp_path, "/src/packages/api-client/src/client.ts", "web") == "packages/api-client/src/client.ts"
    assert locate(tmp_path, "/nowhere/else.py", "api") == "/nowhere/else.py"


def test_declared_args() -> None:  # .env reading: tests/unit/test_dotenv.py
    dockerfile = (Path(__file__).parents[2] / "docker/web.Dockerfile").read_text()
    assert declared_args(dockerfile)[0] == "NODE_IMAGE"
    assert {"GIT_SHA", "BUILD_DATE"} <= set(declared_args(dockerfile))


# BuildKit's plain progress (what `docker build` prints on Docker 23+ and `docker compose build` when not on a
# terminal), in its documented shape: instruction headers `#N [stage i/n] ...`, output lines `#N <seconds> ...`
# interleaved between parallel stages, `#N ERROR: ...`, then the summary block and the Dockerfile excerpt. This
# machine's engine has no buildx, so these are written from that format rather than recorded here.
BUILDKIT_PY = """#1 [internal] load build definition from api.Dockerfile
#1 transferring dockerfile: 1.21kB done
#1 DONE 0.0s

#5 [api builder 1/6] FROM docker.io/library/python:3.12-slim
#5 DONE 0.0s

#6 [web deps 2/5] RUN npm ci
#6 1.204 added 312 packages in 1s
#7 [api builder 4/6] RUN /opt/venv/bin/python -m compileall -q app
#7 0.412 *** Error compiling 'app/main.py'...
#7 0.413   File "app/main.py", line 23
#7 0.413     app = FastAPI(title="shipyard"
#7 0.413                  ^
#7 0.413 SyntaxError: '(' was never closed
#6 1.990 npm notice New minor version of npm available
#6 DONE 2.1s
#7 ERROR: process "/bin/sh -c /opt/venv/bin/python -m compileall -q app" did not complete successfully: exit code: 1
------
 > [api builder 4/6] RUN /opt/venv/bin/python -m compileall -q app:
0.413 SyntaxError: '(' was never closed
------
docker/api.Dockerfile:31
--------------------
  30 |     COPY apps/api/app ./app
  31 | >>> RUN /opt/venv/bin/python -m compileall -q app
--------------------
ERROR: failed to solve: process "/bin/sh -c /opt/venv/bin/python -m compileall -q app" did not complete \
successfully: exit code: 1
"""

BUILDKIT_FALSE = """#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#4 [2/3] COPY app.py .
#4 CACHED
#5 [3/3] RUN test -f /etc/shipyard-ready
#5 ERROR: process "/bin/sh -c test -f /etc/shipyard-ready" did not complete successfully: exit code: 1
------
 > [3/3] RUN test -f /etc/shipyard-ready:
------
Dockerfile:5
--------------------
   4 |     COPY app.py .
   5 | >>> RUN test -f /etc/shipyard-ready
--------------------
ERROR: failed to solve: process "/bin/sh -c test -f /etc/shipyard-ready" did not complete successfully: exit code: 1
"""

BUILDKIT_BASE = """#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#2 [internal] load metadata for docker.io/library/no-such-base:1
#2 ERROR: pull access denied, repository does not exist or may require authorization
------
 > [internal] load metadata for docker.io/library/no-such-base:1:
------
Dockerfile:1
--------------------
   1 | >>> FROM no-such-base:1
--------------------
ERROR: failed to solve: no-such-base:1: pull access denied, repository does not exist or may require authorization
"""


@pytest.mark.parametrize(("output", "expected"), [
    (BUILDKIT_PY, BuildFailure(step="4/6", instruction="RUN /opt/venv/bin/python -m compileall -q app",
                               file="app/main.py", line=23, message="SyntaxError: '(' was never closed",
                               exit_code=1)),
    (BUILDKIT_FALSE, BuildFailure(step="3/3", instruction="RUN test -f /etc/shipyard-ready", file="Dockerfile",
                                  line=5, message='process "/bin/sh -c test -f /etc/shipyard-ready" did not'
                                                  ' complete successfully: exit code: 1', exit_code=1)),
    (BUILDKIT_BASE, BuildFailure(step=None, instruction=None, file="Dockerfile", line=1,
                                 message="pull access denied, repository does not exist or may require"
                                         " authorization")),
])
def test_buildkit_failures(output: str, expected: BuildFailure) -> None:
    """The failing instruction's own lines, even interleaved with another stage's; the compiler's location first,
    else the Dockerfile line BuildKit quotes."""
    assert parse_failure(output) == expected


def test_buildkit_progress_shows_each_instruction_once(capsys: pytest.CaptureFixture[str]) -> None:
    from shipyard.targets.progress import BuildSteps

    steps = BuildSteps()
    for line in BUILDKIT_PY.splitlines():
        steps(line)
    steps("#7 [api builder 4/6] RUN /opt/venv/bin/python -m compileall -q app")  # came again: shown once
    for line in BUILDKIT_FALSE.splitlines():  # the next build (from #1 again) shows its own steps
        steps(line)
    steps("Step 2/9 : COPY . .")  # the classic builder
    assert capsys.readouterr().out.splitlines() == [
        "  [api builder 1/6] FROM docker.io/library/python:3.12-slim",
        "  [web deps 2/5] RUN npm ci",
        "  [api builder 4/6] RUN /opt/venv/bin/python -m compileall -q app",
        "  [2/3] COPY app.py .",
        "  [3/3] RUN test -f /etc/shipyard-ready",
        "  Step 2/9 : COPY . .",
    ]


def test_build_progress_masks_secret_values(capsys: pytest.CaptureFixture[str]) -> None:
    """A build step's line goes through the same redactor as every other line (a value put in a Dockerfile
    instruction by hand, say)."""
    from shipyard.run.redact import Redactor
    from shipyard.targets import progress

    canary = "canary-build-7f3e9a"
    redactor = Redactor()
    redactor.add(canary)
    original, progress.REDACTOR = progress.REDACTOR, redactor
    try:
        progress.BuildSteps()(f"#7 [api 3/6] RUN echo {canary} > /dev/null")
        progress.BuildSteps()(f"Step 3/6 : RUN echo {canary} > /dev/null")
    finally:
        progress.REDACTOR = original
    out = capsys.readouterr().out
    assert canary not in out and out.count("RUN echo ") == 2, out
