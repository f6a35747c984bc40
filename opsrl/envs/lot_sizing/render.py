"""Text and image views of a lot-sizing episode: stock per item over time and the machine schedule."""

from __future__ import annotations

from typing import Any

import numpy as np


def render_ansi(problem: Any, history: list[dict[str, Any]]) -> str:
    """The current period: a bar of stock per item (relative to Imax) and what each machine is set up for."""
    snap = history[-1]
    imax = problem.instance.max_inventory
    lines = [f"period {snap['t']}/{problem.horizon}", f"{'item':<8}{'stock':>7}{'cap':>6}  "]
    for i, (x, cap) in enumerate(zip(snap["inv"], imax, strict=True)):
        bar = "#" * int(round(20 * x / cap))
        lines.append(f"item{i + 1:<4}{int(x):>7}{int(cap):>6}  {bar}")
    setups = ", ".join(f"m{m + 1}:{'idle' if s == 0 else f'item{s}'}" for m, s in enumerate(snap["setup"]))
    lines.append(f"machines  {setups}")
    if len(history) > 1:  # the schedule so far: one row per machine, item number per period ('.' idle)
        sched = np.stack([h["setup"] for h in history[1:]], axis=1)
        width = len(str(problem.n_items))
        for m, row in enumerate(sched):
            lines.append(f"m{m + 1:<3} " + " ".join("." * width if s == 0 else f"{s:>{width}}" for s in row[-30:]))
    return "\n".join(lines) + "\n"


def render_rgb(problem: Any, history: list[dict[str, Any]]) -> np.ndarray:
    """Two panels: stock of every item over time (top) and the machine schedule as a Gantt chart (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inv = np.stack([h["inv"] for h in history])  # [T+1, I]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True,
                                   gridspec_kw={"height_ratios": [2, 1]})
    cmap = plt.get_cmap("tab20")
    for i in range(inv.shape[1]):
        ax1.step(np.arange(inv.shape[0]), inv[:, i], where="post", color=cmap(i % 20), lw=1,
                 label=f"item {i + 1}" if i < 12 else None)
    ax1.set_ylabel("stock")
    ax1.legend(fontsize=6, ncol=4)
    for t, h in enumerate(history[1:]):  # the setup after step t is what the machine did in period t
        for m, s in enumerate(h["setup"]):
            if s > 0:
                ax2.broken_barh([(t, 1)], (m - 0.4, 0.8), color=cmap((s - 1) % 20))
                if problem.n_items <= 30 and len(history) <= 40:
                    ax2.text(t + 0.5, m, str(s), ha="center", va="center", fontsize=6)
    ax2.set_yticks(range(problem.n_machines))
    ax2.set_yticklabels([f"m{m + 1}" for m in range(problem.n_machines)], fontsize=6)
    ax2.set_ylim(-0.6, problem.n_machines - 0.4)
    ax2.set_xlabel("period")
    ax2.set_ylabel("machine (item made)")
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image
