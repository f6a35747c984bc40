"""The ``opsrl`` command: list, describe, eval, solve, train, bench, demo.

Every subcommand accepts ``--json`` and then prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

import numpy as np

from opsrl.core.params import parse_overrides

DEFAULT_ENV = "opsrl/InventoryNetwork-v0"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(_jsonable(payload)))
    else:
        print(text)


def _instance_args(p: argparse.ArgumentParser, env_required: bool = True) -> None:
    p.add_argument("--env", default=None if env_required else DEFAULT_ENV, required=env_required,
                   help="environment id, e.g. opsrl/InventoryNetwork-v0")
    p.add_argument("--preset", default=None, help="preset name (opsrl list); default: the family's")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter (repeatable), e.g. --set lead_time=3")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return parse_overrides(args.overrides)


# -- subcommands ----------------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> None:
    import opsrl
    from opsrl.algos import ALGOS
    from opsrl.policies.base import policy_names

    envs = {e: {"presets": opsrl.list_presets(e), "policies": policy_names(e)} for e in opsrl.list_envs()}
    lines = []
    for e, d in envs.items():
        lines.append(f"{e}\n  presets ({len(d['presets'])}): {', '.join(d['presets'])}")
        lines.append(f"  policies: {', '.join(d['policies'])}")
    lines.append(f"algorithms (opsrl train): {', '.join(ALGOS)}")
    _emit(args, {"envs": envs, "algorithms": list(ALGOS)}, "\n".join(lines))


def cmd_describe(args: argparse.Namespace) -> None:
    from opsrl.registration import entry, make_problem

    problem = make_problem(args.env_id, args.preset, **_overrides(args))
    d = problem.describe()
    d.update(env=args.env_id, preset=args.preset, summary=entry(args.env_id).summary)
    text = [f"{args.env_id}  preset={args.preset or problem.params.default_preset}", entry(args.env_id).summary,
            f"observation: {d['observation_space']}", f"action: {d['action_space']}",
            f"episode length: {d['max_episode_steps']}", "parameters:"]
    text += [f"  {k} = {v}" for k, v in d["parameters"].items()]
    if "network" in d:
        text.append(f"nodes: {', '.join(d['network']['nodes'])}")
        text.append(f"edges (one order each): {', '.join(d['network']['edges'])}")
    _emit(args, d, "\n".join(text))


def _format_ref(ref: dict[str, Any] | None) -> str:
    if not ref:
        return "none"
    ci = f" ± {ref['ci95']:.4f}" if ref.get("ci95") else ""
    return f"{ref['value']:.4f}{ci} ({ref['kind']}: {ref['source']})"


def cmd_eval(args: argparse.Namespace) -> None:
    from opsrl.eval import evaluate

    res = evaluate(args.policy, args.env, args.preset, episodes=args.episodes, seed=args.seed,
                   overrides=_overrides(args), batch_size=args.batch_size,
                   reference="auto" if not args.no_reference else None, samples=args.samples)
    d = res.to_dict()
    gap = "n/a" if res.gap_pct is None else f"{res.gap_pct:+.2f}%"
    text = (f"{args.env} preset={args.preset} policy={d['policy']} episodes={res.episodes} seed={res.seed}\n"
            f"mean cost {res.mean_cost:.4f} ± {res.ci95:.4f} (95% CI)\n"
            f"reference {_format_ref(d['reference'])}\ngap {gap}")
    _emit(args, d, text)


def cmd_solve(args: argparse.Namespace) -> None:
    from opsrl.eval import references

    start = time.perf_counter()
    refs = references(args.env, args.preset, _overrides(args), episodes=args.episodes, seed=args.seed,
                      time_limit=args.time_limit)
    d = {"env": args.env, "preset": args.preset, "references": [r.to_dict() for r in refs],
         "seconds": time.perf_counter() - start}
    text = "\n".join(f"{r.kind:>9}: {r.value:.4f}{f' ± {r.ci95:.4f}' if r.ci95 else ''}  ({r.source})"
                     for r in refs) or "no reference available for this instance"
    _emit(args, d, text)


def cmd_train(args: argparse.Namespace) -> None:
    from opsrl.algos import ALGOS
    from opsrl.core.env import load_object

    if args.algo not in ALGOS:
        raise SystemExit(f"unknown algorithm {args.algo!r}; available: {', '.join(ALGOS)}")
    options = parse_overrides(args.options)
    result = load_object(ALGOS[args.algo])(args.env, args.preset, _overrides(args), seed=args.seed,
                                           budget_seconds=args.budget_seconds, out=args.out, **options)
    _emit(args, {"algo": args.algo, "out": args.out, **result},
          f"trained {args.algo} on {args.env} preset={args.preset}; checkpoint: {args.out}")


def cmd_bench(args: argparse.Namespace) -> None:
    from opsrl import bench

    rows = bench.run(args.env, seconds=args.seconds)
    text = "\n".join(f"{r['preset']:<28}{r['mode']:<10}{r['num_envs']:>6}  {r['env_steps_per_s']:>14,.0f} env-steps/s"
                     f"  {r['unit_steps_per_s']:>14,.0f} store-periods/s" for r in rows)
    _emit(args, {"rows": rows}, text)


def cmd_demo(args: argparse.Namespace) -> None:
    from opsrl.demo import run_demo

    payload, text = run_demo(preset=args.preset, episodes=args.episodes, seed=args.seed, plot=args.plot,
                             budget_seconds=args.budget_seconds)
    _emit(args, payload, text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opsrl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        return p

    add("list", "environment ids, presets, named policies and algorithms").set_defaults(fn=cmd_list)

    p = add("describe", "spaces, parameters and defaults of an instance")
    p.add_argument("env_id")
    p.add_argument("--preset", default=None)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(fn=cmd_describe)

    p = add("eval", "mean cost ± 95%% CI of a policy and its gap to the reference")
    _instance_args(p)
    p.add_argument("--policy", required=True, help="a named policy (opsrl list) or a checkpoint directory")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--no-reference", action="store_true", help="skip computing the reference")
    p.add_argument("--samples", type=int, default=0, metavar="K",
                   help="sampling decoding: best of K sampled solutions per episode (policies that support it, "
                        "e.g. gnn-pretrained); 0 = the policy's default (greedy)")
    p.set_defaults(fn=cmd_eval)

    p = add("solve", "the references of an instance (optimum, bounds, best OR policy)")
    _instance_args(p)
    p.add_argument("--episodes", type=int, default=100, help="scenarios for scenario-based references")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=None, help="seconds for solver-based references")
    p.set_defaults(fn=cmd_solve)

    p = add("train", "train a policy and write a checkpoint directory (mappo/ippo: --env opsrl.marl.MODULE)")
    p.add_argument("algo")
    _instance_args(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget-seconds", type=float, default=600.0)
    p.add_argument("--out", required=True)
    p.add_argument("--option", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="algorithm option (repeatable), e.g. --option policy=base_stock")
    p.set_defaults(fn=cmd_train)

    p = add("bench", "throughput of the envs (single and batched)")
    p.add_argument("--env", default=None)
    p.add_argument("--seconds", type=float, default=2.0)
    p.set_defaults(fn=cmd_bench)

    p = add("demo", "train a policy on a small preset and compare it with the OR reference and heuristics")
    p.add_argument("--preset", default=None)
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget-seconds", type=float, default=60.0, help="training time of the learner")
    p.add_argument("--plot", default="opsrl_demo.png", help="where to write the plot ('' to skip)")
    p.set_defaults(fn=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except ValueError as exc:  # bad parameters and inputs: a clear message, no traceback
        if getattr(args, "json", False):
            print(json.dumps({"error": str(exc)}))
        else:
            print(f"opsrl: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
