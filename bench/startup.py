"""`hocvu ask` from process start to the first answer (index already built), and its peak RSS.

.venv/bin/python -m bench.startup [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [str(REPO / ".venv" / "bin" / "hocvu"), "ask", "--json", "cach dang ky vneid muc 2"]
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=REPO)  # make sure the index exists
    times = []
    peaks_kb = []
    for _ in range(args.runs):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
        assert process.stdout is not None
        output = process.stdout.read()
        # wait4 gives this child's own peak RSS; RUSAGE_CHILDREN would include the warm-up run above.
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - started)
        assert status == 0 and b"vneid-register-level2" in output, output
        peaks_kb.append(usage.ru_maxrss)
    peak_kb = max(peaks_kb)
    print(
        f"hocvu ask, start to answer: median {statistics.median(times):.2f} s, max {max(times):.2f} s over {args.runs} runs"
    )
    print(f"peak RSS: {peak_kb / 1024:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
