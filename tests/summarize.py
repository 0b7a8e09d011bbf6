#!/usr/bin/env python3
"""Counts test results from meson's logs and prints 'N passed, N failed, N skipped'.

GoogleTest binaries are registered with protocol 'gtest', so meson's JUnit log
holds one <testcase> per GoogleTest case; other tests (fuzz replays, integration
scripts) are one <testcase> each. Skipped tests print their reason, so a SKIP is
never silent. Exit status 1 when anything failed.
"""
import json
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    junit, jsonlog = sys.argv[1], sys.argv[2]
    passed = failed = skipped = 0
    failures, skips = [], []
    root = ET.parse(junit).getroot()
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.find("skipped") is not None:
            skipped += 1
            skips.append(name)
        else:
            passed += 1
    # Skip reasons: integration scripts print 'SKIP: <reason>'; gtest prints its message.
    reasons = {}
    with open(jsonlog) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("result") in ("SKIP",) or "SKIP" in rec.get("stdout", "")[-2000:]:
                for out_line in rec.get("stdout", "").splitlines():
                    if "SKIP" in out_line or "Skipped" in out_line:
                        reasons.setdefault(rec["name"], out_line.strip())
    for name in failures:
        print(f"FAILED: {name}")
    for name, why in sorted(reasons.items()):
        print(f"skipped in {name}: {why}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
