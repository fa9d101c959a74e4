"""Records what one InvarLock release's `invarlock verify` prints for every verify case.

Runs inside that release's virtual environment (made by record.sh) and drives the real CLI
in-process through typer's CliRunner: the same `invarlock.cli.app:app` object the console
script runs, so option parsing, exit codes and Rich's rendering are the release's own, without
paying the interpreter start-up 486 times. The releases keep no state between invocations that
matters to verify (the schema's validation allow-list is installed at import time), which the
0.3.6 run checks against the corpus's real CLI recordings; `--fork` runs each invocation in a
forked child of the importing process instead, for a release where that might not hold.
`--check-subprocess N` also runs every (486/N)th invocation as a real `invarlock` process and
fails if anything differs (besides `ts`).

Usage (cwd = tests/fixtures/verify):
  V/bin/python record.py --release 0.3.12 --out 0.3.12/results [--check-subprocess 12]

Output: <out>/<case>.json with the shape of the 0.3.6 recordings in results/:
{case, files, baseline, release, invocations: [{profile, mode, command, exit_code, stdout, stderr}]}.
These files are the ground truth for tests/verify_releases.rs and are never edited by hand.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

# Rich reads the width once, when the app's Console is built: set it before importing.
os.environ["COLUMNS"] = "1000"
for var in [v for v in os.environ if v.startswith("INVARLOCK_")]:
    del os.environ[var]

from typer.testing import CliRunner  # noqa: E402

import invarlock  # noqa: E402
from invarlock.cli.app import app  # noqa: E402

PROFILES = ("dev", "ci", "release")
TS = re.compile(r', "ts": "[^"]*"')


def argv_of(case, profile, mode):
    argv = ["verify"]
    if mode == "json":
        argv.append("--json")
    argv += ["--profile", profile]
    if case.get("baseline"):
        argv += ["--baseline", case["baseline"]]
    return argv + list(case["files"])


def invoke(runner, argv):
    res = runner.invoke(app, argv, catch_exceptions=True)
    stderr = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        # An uncaught exception: the console script would print a traceback and exit 1.
        stderr += f"<<uncaught {type(res.exception).__name__}: {res.exception}>>\n"
    return res.exit_code, res.stdout, stderr


def run_in_process(runner, argv):
    """`invoke` in a forked child; the result comes back as JSON through a pipe."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            payload = json.dumps(invoke(runner, argv)).encode()
        except BaseException as e:  # noqa: BLE001 - reported to the parent, never lost
            payload = json.dumps([99, "", f"<<oracle failure: {e!r}>>"]).encode()
        with os.fdopen(wfd, "wb") as w:
            w.write(payload)
        os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as r:
        data = r.read()
    os.waitpid(pid, 0)
    code, stdout, stderr = json.loads(data)
    if code == 99:
        sys.exit(stderr)
    return code, stdout, stderr


def run_subprocess(argv):
    exe = Path(sys.executable).with_name("invarlock")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVARLOCK_")}
    p = subprocess.run([str(exe), *argv], capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", required=True)
    ap.add_argument("--cases", default="cases.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check-subprocess", type=int, default=0)
    ap.add_argument("--fork", action="store_true", help="one forked child per invocation")
    args = ap.parse_args()

    installed = getattr(invarlock, "__version__", None)
    if installed != args.release:
        sys.exit(f"this environment has invarlock {installed}, not {args.release}")
    cases = json.loads(Path(args.cases).read_text())["cases"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runner = CliRunner()
    checked = 0
    step = max(1, (len(cases) * 6) // args.check_subprocess) if args.check_subprocess else 0
    n_inv = 0
    for case in cases:
        invocations = []
        for profile in PROFILES:
            for mode in ("json", "text"):
                argv = argv_of(case, profile, mode)
                run = run_in_process if args.fork else invoke
                code, stdout, stderr = run(runner, argv)
                n_inv += 1
                if step and (n_inv - 1) % step == 0:
                    checked += 1
                    real = run_subprocess(argv)
                    mine = (code, TS.sub("", stdout), stderr)
                    theirs = (real[0], TS.sub("", real[1]), real[2])
                    if mine != theirs:
                        sys.exit(f"in-process differs from the CLI for {argv}:\n{mine}\n{theirs}")
                invocations.append(
                    {
                        "profile": profile,
                        "mode": mode,
                        "command": "cd verify && invarlock " + " ".join(argv),
                        "exit_code": code,
                        "stdout": stdout,
                        "stderr": stderr,
                    }
                )
        record = {
            "case": case["id"],
            "files": case["files"],
            "baseline": case.get("baseline"),
            "release": args.release,
            "invocations": invocations,
        }
        (out / f"{case['id']}.json").write_text(
            json.dumps(record, indent=1, ensure_ascii=False) + "\n"
        )
    print(f"{args.release}: {len(cases)} cases, {len(cases) * 6} invocations recorded in {out}"
          f" ({checked} also run as a subprocess and identical)")


if __name__ == "__main__":
    main()
