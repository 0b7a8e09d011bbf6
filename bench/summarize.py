#!/usr/bin/env python3
"""Turns a Google Benchmark JSON file (run with repetitions) into a markdown
table of min / median / max ns per iteration (= per packet) over the repeats."""
import json
import statistics
import sys


def main() -> None:
    with open(sys.argv[1]) as f:
        data = json.load(f)
    runs: dict[str, list[float]] = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        runs.setdefault(b["run_name"], []).append(b["cpu_time"] * scale)
    print("| benchmark | min ns | median ns | max ns | repeats |")
    print("|---|---:|---:|---:|---:|")
    for name, v in runs.items():
        print(f"| {name} | {min(v):.1f} | {statistics.median(v):.1f} | {max(v):.1f} | {len(v)} |")


if __name__ == "__main__":
    main()
