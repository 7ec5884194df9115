"""Why a `docker build` failed: the failing step, the source file and line, the one error line. Pure.

Reads the classic builder's output (`Step N/M : INSTRUCTION`, `The command '...' returned a non-zero code: N`)
and BuildKit's plain progress (`#8 [api 4/6] RUN ...`, each output line `#8 0.412 text`, then
`#8 ERROR: process "..." did not complete successfully: exit code: N` and a `Dockerfile:12` excerpt), which
`docker build` and `docker compose build` print depending on the engine, and the compilers' own location formats
inside the failing step: Python tracebacks and compileall, Next.js/TypeScript `./file.tsx:9:9`, SWC code frames
`,-[/src/file.tsx:8:1]`, tsc `file.ts(9,9): error TS...`, and generic `file:line:` prefixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
STEP = re.compile(r"^Step (?P<step>\d+/\d+) : (?P<instruction>.+)$")
NONZERO = re.compile(r"(?:The command '(?P<cmd>.*)'|.*) returned a non-zero code: (?P<code>\d+)")
SOURCE = r"(?P<file>[\w./@\[\]()+-]*\w\.(?:py|pyi|tsx?|jsx?|mjs|cjs|css|scss|json|ya?ml|toml|sql|go|rs))"
LOCATIONS = [
    # Python traceback / compileall / py_compile
    re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)'),
    # SWC code frame: ,-[/src/apps/web/app/page.tsx:8:1]
    re.compile(r",-\[(?P<file>[^\]:]+):(?P<line>\d+)(?::\d+)?\]"),
    # tsc: app/page.tsx(9,9): error TS2322: ...
    re.compile(r"^" + SOURCE + r"\((?P<line>\d+),\d+\): (?P<message>error .+)$"),
    # Next.js / eslint / generic: ./app/page.tsx:9:9  (message usually on the next line)
    re.compile(r"^" + SOURCE + r":(?P<line>\d+)(?::\d+)?(?::\s*(?P<message>.+))?$"),
]
MESSAGE = [
    re.compile(r"^(?:\w+\.)*\w*(?:Error|Exception|Warning)\b:?.*"),  # SyntaxError: ..., Type error: ...
    re.compile(r"^Type error: .+"),
    re.compile(r"^Error:\s+.+"),
    re.compile(r"^\s*x\s+.+"),  # SWC's "  x Expected ';'"
    re.compile(r"^(?:npm ERR!|npm error)\s+.+"),
    re.compile(r"^ERROR:? .+", re.I),
    re.compile(r".*\b(?:error|failed|not found|no such file)\b.*", re.I),
]
# BuildKit's plain progress: a vertex header (only Dockerfile instructions have a step number), its output lines
# (`#8 0.412 text`, the seconds since it started), its end, and the Dockerfile line it came from.
VERTEX = re.compile(r"^#(?P<id>\d+) \[(?:(?P<stage>[^\]]*?) )?(?P<step>\d+/\d+)\] (?P<instruction>.+)$")
VERTEX_LINE = re.compile(r"^#(?P<id>\d+) (?:\d+\.\d+ )?(?P<text>.*)$")
VERTEX_ERROR = re.compile(r"^#(?P<id>\d+) ERROR: (?P<error>.*)$")
EXIT_CODE = re.compile(r"exit code:? (?P<code>\d+)")
BUILDKIT_MARK = re.compile(r"^#\d+ (?:\[|DONE |ERROR|CACHED$)")
ANY_HEADER = re.compile(r"^#\d+ \[")  # an instruction's or an internal vertex's header ([internal] load ...)
VERTEX_END = re.compile(r"^(?:DONE \d|CACHED$)")
DOCKERFILE_LINE = re.compile(r"^(?P<file>\S*Dockerfile\S*):(?P<line>\d+)$")
NOISE = re.compile(r"^(Removing intermediate container|\s*--->|Sending build context|Successfully )")


@dataclass(frozen=True)
class BuildFailure:
    step: str | None = None
    instruction: str | None = None
    file: str | None = None
    line: int | None = None
    message: str = "the build failed"
    exit_code: int | None = None

    def describe(self, service: str | None = None) -> str:
        """One line: where the build stopped, which source line is to blame, and why."""
        who = f"{service}: " if service else ""
        where = f" at step {self.step} ({_short(self.instruction or '')})" if self.step else ""
        location = f"{self.file}:{self.line}: " if self.file and self.line else (f"{self.file}: " if self.file else "")
        return f"{who}build failed{where}: {location}{self.message}"


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clean(output: str) -> list[str]:
    """Output lines without colour codes, carriage-return progress or trailing spaces."""
    lines = []
    for raw in ANSI.sub("", output).replace("\r\n", "\n").split("\n"):
        lines.append(raw.rsplit("\r", 1)[-1].rstrip())
    return lines


def _failing_step(lines: list[str]) -> tuple[str | None, str | None, list[str]]:
    """The last `Step N/M` before the failure and the lines it printed."""
    last = None
    for index, line in enumerate(lines):
        if STEP.match(line):
            last = index
    if last is None:
        return None, None, lines
    match = STEP.match(lines[last])
    assert match is not None
    return match["step"], match["instruction"], lines[last + 1:]


def _message_after(lines: list[str], start: int) -> str | None:
    for line in lines[start:start + 8]:
        text = line.strip()
        if not text or text.startswith(("|", ">")) or re.match(r"^\d+\s*\|", text) or set(text) <= {"^", " ", "~"}:
            continue
        for pattern in MESSAGE[:5]:
            if pattern.match(text):
                return text
    return None


def _location(body: list[str]) -> tuple[str | None, int | None, str | None]:
    """The first source location in the step's output (the compilers print the root cause first)."""
    for pattern in LOCATIONS:
        for index, line in enumerate(body):
            match = pattern.search(line)
            if not match:
                continue
            groups = match.groupdict()
            message = groups.get("message") or _message_after(body, index + 1)
            if pattern is LOCATIONS[0]:  # Python: the innermost frame is the last one
                for later in range(len(body) - 1, index, -1):
                    deeper = pattern.search(body[later])
                    if deeper:
                        match, index = deeper, later
                        break
                message = _message_after(body, index + 1) or message
            return match["file"], int(match["line"]), message
    return None, None, None


def _best_message(body: list[str]) -> str | None:
    useful = [line.strip() for line in body if line.strip() and not NOISE.match(line) and not NONZERO.match(line)]
    for pattern in MESSAGE:
        for line in useful:
            if pattern.match(line):
                return line
    return useful[-1] if useful else None


def is_buildkit(lines: list[str]) -> bool:
    return any(BUILDKIT_MARK.match(line) for line in lines)


def _buildkit_failure(lines: list[str]) -> BuildFailure:
    """The first vertex that reported ERROR (else the last instruction that started), its own output lines, and
    the Dockerfile line BuildKit quotes when no compiler named a source line. A failure outside an instruction
    (resolving a base image, say) has no step."""
    headers: dict[str, tuple[str, str]] = {}
    body: dict[str, list[str]] = {}
    failed: str | None = None
    error: str | None = None
    dockerfile: tuple[str, int] | None = None
    for line in lines:
        if header := VERTEX.match(line):
            headers.setdefault(header["id"], (header["step"], header["instruction"]))
            continue
        if ANY_HEADER.match(line):
            continue  # an internal vertex's header: not output
        if problem := VERTEX_ERROR.match(line):
            if failed is None:
                failed, error = problem["id"], problem["error"]
            continue
        if output := VERTEX_LINE.match(line):
            text = output["text"]
            if not VERTEX_END.match(text):
                body.setdefault(output["id"], []).append(text)
            continue
        if (where := DOCKERFILE_LINE.match(line.strip())) and dockerfile is None:
            dockerfile = (where["file"], int(where["line"]))
    if failed is None and headers:
        failed = list(headers)[-1]
    step, instruction = headers.get(failed, (None, None)) if failed else (None, None)
    lines_of_step = body.get(failed, []) if failed else [line for line in lines if line.strip()]
    if error is not None:
        lines_of_step = [*lines_of_step, error]
    code = EXIT_CODE.search(error or "")
    file, line_no, message = _location(lines_of_step)
    if file is None and dockerfile is not None:
        file, line_no = dockerfile
    message = message or _best_message([t for t in lines_of_step if t != error]) or error \
        or "the build failed (no error line found; run it by hand)"
    return BuildFailure(step=step, instruction=instruction, file=file, line=line_no, message=_short(message, 200),
                        exit_code=int(code["code"]) if code else None)


def parse_failure(output: str) -> BuildFailure:
    lines = clean(output)
    if is_buildkit(lines):
        return _buildkit_failure(lines)
    step, instruction, body = _failing_step(lines)
    exit_code = None
    for line in body:
        match = NONZERO.search(line)
        if match:
            exit_code = int(match["code"])
    file, line_no, message = _location(body)
    message = message or _best_message(body) or "the build failed (no error line found; run it by hand)"
    return BuildFailure(step=step, instruction=instruction, file=file, line=line_no, message=_short(message, 200),
                        exit_code=exit_code)


def declared_args(dockerfile: str) -> list[str]:
    """Names of the ARGs a Dockerfile declares (before or after FROM), in order, without duplicates."""
    names: list[str] = []
    for raw in dockerfile.splitlines():
        match = re.match(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)", raw)
        if match and match.group(1) not in names:
            names.append(match.group(1))
    return names


def platform_mismatch(built: str, wanted: str) -> bool:
    """True when an image's `os/arch[/variant]` is not the wanted platform. A wanted platform without a variant
    accepts any variant of its architecture; amd64 is also spelled x86_64, arm64 aarch64."""
    aliases = {"x86_64": "amd64", "aarch64": "arm64"}

    def parts(platform: str) -> list[str]:
        items = platform.strip().lower().split("/")
        return [aliases.get(item, item) for item in items]

    have, want = parts(built), parts(wanted)
    return have[:len(want)] != want if len(want) > 2 else have[:2] != want[:2]
