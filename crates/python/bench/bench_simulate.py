"""The Python half of the overhead benchmark: N calls of sxplan.simulate(path) on the flagship,
timed one by one (load, solve with the GIL released, JSON to Python objects).

    .venv/bin/python crates/python/bench/bench_simulate.py flowsheets/minamitorishima.toml 100

Compare with `cargo run --release --example bench_simulate -- flowsheets/minamitorishima.toml 100`.
With --data each call also parses the whole JSON document into Python objects (compare with the
Rust example's --json, which renders it).
"""

import statistics
import sys
import time

import sxplan


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "flowsheets/minamitorishima.toml"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    # --data: also turn the whole JSON document into Python objects on each call
    with_data = "--data" in sys.argv
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = sxplan.simulate(path)
        assert r.status == "converged", r.status
        if with_data:
            assert r.data["status"] == "converged"
        times.append(time.perf_counter() - t)
    print(
        f"python sxplan.simulate{' + data' if with_data else ''}: {n} calls, median {statistics.median(times):.4f} s, "
        f"min {min(times):.4f} s, max {max(times):.4f} s, total {sum(times):.2f} s"
    )


if __name__ == "__main__":
    main()
