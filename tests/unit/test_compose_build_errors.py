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
