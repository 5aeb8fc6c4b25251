"""The child-process side of a script job: `vcore-app script run NAME` (docs/design.md, "The process").

Input JSON comes on stdin. Print output is the job's log. The outcome is written as JSON to
`--result-file` (given by the parent), `{"output": value}` or `{"error": "...", "permanent": bool}`,
so it can never be confused with what the script prints. Without the option it is printed last.
Exit codes: 0 done, 1 the script failed, 2 unknown script or invalid input (retrying cannot help).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from vcore_app.plugins.manager import script_registry
from vcore_app.scripts.base import Output, ScriptContext, ScriptError
from vcore_app.scripts.registry import UnknownScript

JOB_ID_ENV = "VCORE_JOB_ID"
ATTEMPT_ENV = "VCORE_JOB_ATTEMPT"


def run_script(
    name: str, *, plugins_dir: Path | None, stdin: IO[str], result_file: Path | None, data_dir: Path | None = None
) -> int:
    registry = script_registry(plugins_dir)
    try:
        script = registry.get(name)
        raw = stdin.read().strip()
        script_input = script.Input.model_validate(json.loads(raw) if raw else {})
    except (UnknownScript, ValueError) as exc:  # ValidationError and JSONDecodeError are ValueErrors
        return _finish(result_file, {"error": _one_line(exc), "permanent": True}, 2)
    ctx = ScriptContext(job_id=_int_env(JOB_ID_ENV), attempt=_int_env(ATTEMPT_ENV), data_dir=data_dir)
    try:
        output = script().run(script_input, ctx)
        if isinstance(output, Output):
            output = output.as_result()
        json.dumps(output)  # fail here, with the script's name on it, rather than in the parent
    except ScriptError as exc:
        return _finish(result_file, {"error": str(exc), "permanent": exc.permanent}, 1)
    except Exception as exc:
        traceback.print_exc(file=sys.stdout)
        return _finish(result_file, {"error": f"{type(exc).__name__}: {exc}", "permanent": False}, 1)
    return _finish(result_file, {"output": output}, 0)


def _finish(result_file: Path | None, outcome: dict[str, Any], code: int) -> int:
    sys.stdout.flush()
    text = json.dumps(outcome)
    if result_file is None:
        print(text)
    else:
        tmp = result_file.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, result_file)
    if "error" in outcome:
        print(f"error: {outcome['error']}", file=sys.stderr)
    return code


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "input"
        return f"input {where}: {first['msg']}"
    return str(exc)


def _int_env(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None
