"""Run every benchmark and print the side-by-side table (medians and ratios, one run)."""
from __future__ import annotations

import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_core  # noqa: E402
import bench_rewrite  # noqa: E402
from harness import format_results  # noqa: E402


def main() -> None:
    print(f"# workbench benchmarks on {platform.machine()} with {os.cpu_count()} cores, "
          f"Python {platform.python_version()}\n")
    print(format_results(bench_core.main() + bench_rewrite.main()))


if __name__ == "__main__":
    main()
