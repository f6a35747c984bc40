"""Text and image views of an inventory network: on-hand and pipeline per node over time."""

from __future__ import annotations

from typing import Any

import numpy as np

from opsrl.envs.inventory.network import Network


def render_ansi(net: Network, snap: dict[str, Any]) -> str:
    inv = snap["inv"]
    lines = [f"period {snap['t']}", f"{'node':<12}{'on-hand':>10}  pipeline (arriving in 1..K-1 periods)"]
    for name, vec in zip(net.node_names(), inv, strict=True):
        pipe = " ".join(f"{v:6.1f}" for v in vec[1:])
        lines.append(f"{name:<12}{vec[0]:>10.2f}  {pipe}")
    return "\n".join(lines) + "\n"


def render_rgb(net: Network, history: list[dict[str, Any]]) -> np.ndarray:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inv = np.stack([h["inv"] for h in history])  # [T, N, K]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(6, 4.5), sharex=True)
    for n, name in enumerate(net.node_names()[:12]):
        ax1.plot(inv[:, n, 0], label=name)
        ax2.plot(inv[:, n, 1:].sum(axis=1), label=name)
    ax1.set_ylabel("on-hand")
    ax2.set_ylabel("in pipeline")
    ax2.set_xlabel("period")
    ax1.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image
