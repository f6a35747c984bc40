"""Views of a DRAM controller env: the configuration and its last metrics, as text or as an RGB bar chart."""

from __future__ import annotations

from typing import Any

import numpy as np

from opsrl.envs.dram.simulator import KNOBS, NVEC

METRIC_LABELS = ("makespan ns", "energy µJ", "power mW", "mean latency ns", "p99 latency ns")


def _text(problem: Any, snap: dict[str, Any]) -> str:
    lines = [f"t={snap['t']}  {problem.device.name}  trace={problem.trace.name} ({len(problem.trace)} requests)"]
    for (name, values), k in zip(KNOBS, snap["knobs"], strict=True):
        lines.append(f"  {name:<24}{values[int(k)]!s:>16}")
    if np.any(snap["last"] > 0):
        ref = problem.reference_metrics
        keys = ("total_time_ns", "energy_uj", "avg_power_mw", "mean_latency_ns", "p99_latency_ns")
        for label, key, v in zip(METRIC_LABELS, keys, snap["last"], strict=True):
            lines.append(f"  {label:<24}{v:>16,.2f}  ({v / ref[key]:.3f} × reference)")
    return "\n".join(lines)


def render(problem: Any, history: list[dict[str, Any]], mode: str) -> Any:
    snap = history[-1]
    if mode == "ansi":
        return _text(problem, snap)
    if mode != "rgb_array":
        from opsrl.core.errors import ParameterError

        raise ParameterError(f"render_mode={mode!r} is not supported: use 'ansi' or 'rgb_array'")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(8, 3), dpi=80)
    names = [name for name, _ in KNOBS]
    ax[0].barh(names, snap["knobs"] / (NVEC - 1), color="tab:blue")
    ax[0].set_xlim(0, 1)
    ax[0].set_title("knob index / (n − 1)")
    ax[0].tick_params(labelsize=7)
    ref = problem.reference_metrics
    keys = ("total_time_ns", "energy_uj", "avg_power_mw", "mean_latency_ns", "p99_latency_ns")
    ax[1].bar(range(5), [v / ref[k] for v, k in zip(snap["last"], keys, strict=True)], color="tab:orange")
    ax[1].set_xticks(range(5), ["T", "E", "P", "lat", "p99"])
    ax[1].axhline(1.0, color="k", lw=0.8)
    ax[1].set_title("metrics / reference config")
    fig.tight_layout()
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
    plt.close(fig)
    return img
