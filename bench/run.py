"""Run every benchmark and print the side-by-side table (medians and ratios, one run).

``python bench/run.py`` runs all groups; ``--only c`` (or ``core``, ``rewrite``, several
separated by commas) runs some. Arguments after ``--`` go to the C group
(``python bench/run.py --only c -- --rounds 9``; see ``bench_c.py --help``).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_c  # noqa: E402
import bench_core  # noqa: E402
import bench_rewrite  # noqa: E402
from harness import format_results  # noqa: E402

GROUPS = {"core": bench_core.main, "rewrite": bench_rewrite.main}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    rest: list[str] = []
    if "--" in argv:
        argv, rest = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="core,rewrite,c",
                        help="comma-separated groups: core, rewrite, c (default: all)")
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS and g != "c"]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; known: core, rewrite, c")
    print(f"# workbench benchmarks on {platform.machine()} with {os.cpu_count()} cores, "
          f"Python {platform.python_version()}\n")
    results = [r for g in groups if g in GROUPS for r in GROUPS[g]()]
    if results:
        print(format_results(results))
    if "c" in groups:
        bench_c.main(rest)  # prints its figures and the README table, writes the JSON


if __name__ == "__main__":
    main()
