"""Text and image views of a (partial) job-shop schedule: per-machine sequences and a Gantt chart."""

from __future__ import annotations

from typing import Any

import numpy as np


def machine_sequences(snap: dict[str, Any]) -> list[list[tuple[int, int, int, int]]]:
    """Per machine, the scheduled ops as ``(start, end, job, k)`` sorted by start."""
    dur, mach, start = snap["durations"], snap["machines"], snap["starts"]
    n_mach = int(mach.max()) + 1 if mach.size else 0
    seqs: list[list[tuple[int, int, int, int]]] = [[] for _ in range(n_mach)]
    for j, k in zip(*np.nonzero(start >= 0), strict=True):
        s = int(start[j, k])
        seqs[int(mach[j, k])].append((s, s + int(dur[j, k]), int(j), int(k)))
    return [sorted(seq) for seq in seqs]


def render_ansi(snap: dict[str, Any]) -> str:
    n_ops = int((snap["machines"] >= 0).sum())
    done = int((snap["starts"] >= 0).sum())
    lines = [f"step {snap['t']}: {done}/{n_ops} ops scheduled, makespan {snap['makespan']}, "
             f"lower bound {snap['lower_bound']}"]
    for i, seq in enumerate(machine_sequences(snap)):
        ops = " ".join(f"J{j}[{s},{e})" for s, e, j, _ in seq)
        lines.append(f"M{i:<3} {ops}")
    return "\n".join(lines) + "\n"


def render_rgb(snap: dict[str, Any]) -> np.ndarray:
    """A Gantt chart (machines as rows, one colour per job) as an RGB array."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seqs = machine_sequences(snap)
    n_jobs = snap["durations"].shape[0]
    cmap = plt.get_cmap("tab20", max(n_jobs, 1))
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(seqs) + 1.2))
    for i, seq in enumerate(seqs):
        if seq:
            ax.broken_barh([(s, e - s) for s, e, _, _ in seq], (i - 0.4, 0.8),
                           facecolors=[cmap(j % 20) for _, _, j, _ in seq], edgecolor="black", linewidth=0.3)
    ax.set_yticks(range(len(seqs)))
    ax.set_yticklabels([f"M{i}" for i in range(len(seqs))], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("time")
    ax.set_xlim(0, max(snap["makespan"], snap["lower_bound"], 1))
    ax.set_title(f"step {snap['t']}, makespan {snap['makespan']}", fontsize=8)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image
