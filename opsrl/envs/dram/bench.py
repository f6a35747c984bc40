"""Raw simulator throughput of the DRAM family (spec §8 target: ≥ 1 M requests/s per core; issue goal 3 M).

    .venv/bin/python -m opsrl.envs.dram.bench [--configs 200] [--json]

For each preset trace it times ``--configs`` uniform random configurations one after another on one core
(the serial kernel) and reports requests/s from wall time and from the thread's CPU time (the latter is the
machine-independent figure on a shared machine), plus a parallel batch on all cores. Never a unit test.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from opsrl.envs.dram.devices import get_device
from opsrl.envs.dram.simulator import NVEC, run_records
from opsrl.envs.dram.traces import decode_trace, make_trace

CASES = (("stream", "DDR3-1600"), ("random", "DDR3-1600"), ("cloud1", "DDR3-1600"), ("cloud2", "DDR3-1600"),
         ("random_rw", "DDR3-1600"), ("stream", "DDR4-2400"), ("random", "DDR4-2400"), ("rand200k", "DDR3-1600"))


def measure(trace: str, memory: str, configs: int = 200, seed: int = 0) -> dict:
    dev = get_device(memory)
    tr = make_trace(trace)
    dec = decode_trace(tr, dev)
    rng = np.random.default_rng(seed)
    n_cfg = max(4, configs if len(tr) <= 20_000 else configs // 20)
    acts = np.stack([rng.integers(0, k, n_cfg) for k in NVEC], axis=1)
    run_records(dec, dev, acts[:2], parallel=False)  # compile / load the cache
    run_records(dec, dev, acts[:4], parallel=True)
    wall, cpu = time.perf_counter(), time.thread_time()
    run_records(dec, dev, acts, parallel=False)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    pwall, pcpu = time.perf_counter(), time.process_time()
    run_records(dec, dev, acts, parallel=True)
    pwall, pcpu = time.perf_counter() - pwall, time.process_time() - pcpu
    req = n_cfg * len(tr)
    return {"trace": trace, "memory": memory, "requests": len(tr), "configs": n_cfg,
            "serial_req_per_s_wall": req / wall, "serial_req_per_s_cpu": req / cpu,
            "ms_per_eval_cpu": 1e3 * cpu / n_cfg, "parallel_req_per_s_wall": req / pwall,
            "parallel_cpu_seconds": pcpu, "cores": os.cpu_count()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [measure(t, m, args.configs) for t, m in CASES]
    if args.json:
        print(json.dumps(rows))
        return
    print(f"{'trace':<10}{'memory':<11}{'configs':>8}{'M req/s (1 core, CPU)':>24}{'(wall)':>9}"
          f"{'ms/eval':>9}{'M req/s (all cores, wall)':>28}")
    for r in rows:
        print(f"{r['trace']:<10}{r['memory']:<11}{r['configs']:>8}{r['serial_req_per_s_cpu'] / 1e6:>24.2f}"
              f"{r['serial_req_per_s_wall'] / 1e6:>9.2f}{r['ms_per_eval_cpu']:>9.2f}"
              f"{r['parallel_req_per_s_wall'] / 1e6:>28.2f}")


if __name__ == "__main__":
    main()
