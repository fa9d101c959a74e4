"""Compares two directories of verify recordings (exit code, stdout minus `ts`, stderr).

  python compare.py RECORDED_DIR NEW_DIR     exits 1 and lists the differences, if any
"""

import json
import re
import sys
from pathlib import Path

TS = re.compile(r', "ts": "[^"]*"')


def key(inv):
    return inv["exit_code"], TS.sub("", inv["stdout"]), inv["stderr"]


def main():
    old, new = Path(sys.argv[1]), Path(sys.argv[2])
    total, diffs = 0, []
    for f in sorted(old.glob("*.json")):
        a = json.loads(f.read_text())["invocations"]
        b = json.loads((new / f.name).read_text())["invocations"]
        for x, y in zip(a, b, strict=True):
            total += 1
            if key(x) != key(y):
                diffs.append(f"{f.stem} {x['profile']} {x['mode']}: {key(x)!r} != {key(y)!r}")
    print(f"{total} invocations compared, {len(diffs)} differ")
    for d in diffs:
        print(d)
    sys.exit(1 if diffs or total == 0 else 0)


if __name__ == "__main__":
    main()
