"""In-process oracle for differential fuzzing: runs InvarLock 0.3.6's real `verify_command`
once per request line, without paying its CLI start-up for every input.

stdin:  one JSON object per line: {"dir": str, "files": [str], "profile": str, "json": bool,
        "baseline": str|null, "tolerance": float}
stdout: one JSON object per line: {"exit": int, "stdout": str}

Run with the real tool's interpreter, e.g. /work/venv312/bin/python scripts/oracle_verify.py.
Python's recursion budget differs in-process, so verdicts on nesting deeper than ~1400 levels
are not comparable with the CLI's.
"""
import io
import json
import os
import sys

os.environ["COLUMNS"] = "1000"

from pathlib import Path  # noqa: E402

from invarlock.cli.commands import verify as v  # noqa: E402

real_stdout = sys.stdout
for line in sys.stdin:
    req = json.loads(line)
    os.chdir(req["dir"])
    buf = io.StringIO()
    sys.stdout = buf
    code = 0
    try:
        v.verify_command(
            certificates=[Path(f) for f in req["files"]],
            baseline=Path(req["baseline"]) if req.get("baseline") else None,
            tolerance=req.get("tolerance", 1e-9),
            profile=req["profile"],
            json_out=req["json"],
        )
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except Exception as e:
        # typer's Exit (not click's in typer 0.29) carries the exit code; anything else is an
        # uncaught crash: the CLI would print a traceback and exit 1.
        code = getattr(e, "exit_code", None)
        if not isinstance(code, int):
            code = 1
            print(f"<<uncaught {type(e).__name__}: {e}>>", file=sys.stderr)
    finally:
        sys.stdout = real_stdout
    real_stdout.write(json.dumps({"exit": code, "stdout": buf.getvalue()}) + "\n")
    real_stdout.flush()
