#!/usr/bin/env python3
"""Turns a Google Benchmark JSON file (run with repetitions) into a markdown
table of min / median / max ns per item (per packet, or per message) over the
repeats. A benchmark that reports items (SetItemsProcessed) is divided by them,
so a burst of 32 packets per iteration reads as ns per packet; one that does
not is reported per iteration."""
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
        if b.get("items_per_second"):
            ns = 1e9 / b["items_per_second"]  # items/s is measured on CPU time
        else:
            scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
            ns = b["cpu_time"] * scale
        runs.setdefault(b["run_name"], []).append(ns)
    print("| benchmark | min ns/item | median ns/item | max ns/item | repeats |")
    print("|---|---:|---:|---:|---:|")
    for name, v in runs.items():
        print(f"| {name} | {min(v):.1f} | {statistics.median(v):.1f} | {max(v):.1f} | {len(v)} |")


if __name__ == "__main__":
    main()
