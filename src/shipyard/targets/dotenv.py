"""`.env` files: read as Docker Compose reads them, and a first one written from `.env.example` (both pure text).

The syntax is python-dotenv's parser: comments (a `#` line, or ` #` after an unquoted value), `export`, single and
double quotes (escapes such as `\\n` and `\\"` decoded inside double quotes), values spanning lines inside quotes.
Interpolation is python-dotenv's `${VAR}` and `${VAR:-default}`, applied the way Compose applies it: in unquoted and
double-quoted values only (a single-quoted value is literal), a name looked up first in the environment, then in
the assignments above it. A line that cannot be read is refused, as Compose refuses the whole file.

Compose also expands `$VAR`, `$$`, `\\$`, `${VAR-default}`, `${VAR:?error}` and `${VAR:+other}`; python-dotenv
leaves those as written, so avoid them in the values Shipyard reads (secrets and build arguments).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

from dotenv.parser import Binding, parse_stream
from dotenv.variables import parse_variables

from shipyard.errors import ShipyardError

#: The test bed's locally built stand-ins for the public images (same environment contract).
TESTBED_IMAGES = {
    "PYTHON_IMAGE": "shipyard-base/python:bookworm",
    "NODE_IMAGE": "shipyard-base/node:bookworm",
    "POSTGRES_IMAGE": "shipyard-base/postgres:bookworm",
    "REDIS_IMAGE": "shipyard-base/redis:bookworm",
}


class DotenvError(ShipyardError):
    """A `.env` line that is not an assignment (the message names the line, never its content)."""


def _line(binding: Binding) -> int:
    """The line a binding's text starts on (python-dotenv marks it before the blank lines in front of it)."""
    text = binding.original.string
    return binding.original.line + text[: len(text) - len(text.lstrip())].count("\n")


def _single_quoted(binding: Binding) -> bool:
    # a key never holds `=` (python-dotenv's unquoted keys exclude it), so the value follows the first one
    return binding.original.string.partition("=")[2].lstrip(" \t").startswith("'")


def parse_dotenv(text: str, environ: Mapping[str, str] | None = None, *, source: str = ".env") -> dict[str, str]:
    """The assignments of a `.env` file, interpolated against `environ` (see the module's docstring).

    A key without `=` sets nothing (Compose takes it from the environment, which overrides `.env` anyway).
    """
    environ = environ or {}
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise DotenvError(f"{source} line {_line(binding)}: not a KEY=VALUE assignment that Compose can read",
                              hint=f"fix that line of {source} (quote a value that holds spaces, quotes or `#`)")
        if binding.key is None or binding.value is None:
            continue
        if _single_quoted(binding):
            values[binding.key] = binding.value
        else:
            # an empty value counts as unset, so that `${VAR:-default}` takes the default as in Compose (and POSIX)
            scope = {name: value for name, value in {**values, **environ}.items() if value}
            values[binding.key] = "".join(atom.resolve(scope) for atom in parse_variables(binding.value))
    return values


def fill(example: str, values: Mapping[str, str]) -> str:
    """`.env.example` with the given keys set (uncommented if needed); keys it lacks are appended."""
    pending = dict(values)
    lines = []
    for line in example.splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match and match.group(1) in pending:
            key = match.group(1)
            line = f"{key}={pending.pop(key)}"
        lines.append(line)
    lines += [f"{key}={value}" for key, value in pending.items()]
    return "\n".join(lines) + "\n"
