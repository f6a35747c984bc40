"""Text and image views of a portfolio episode: wealth and holdings over time."""

from __future__ import annotations

from typing import Any

import numpy as np


def render_ansi(tickers: tuple[str, ...], history: list[dict[str, Any]]) -> str:
    snap = history[-1]
    names = ("cash",) + tuple(tickers)
    lines = [f"step {snap['t']}  date {snap['date']}  wealth {snap['wealth']:.4f}"]
    for name, w in zip(names, snap["w"], strict=True):
        lines.append(f"{name:<8}{w:7.3f}  " + "#" * int(round(40 * w)))
    return "\n".join(lines) + "\n"


def render_rgb(tickers: tuple[str, ...], history: list[dict[str, Any]]) -> np.ndarray:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wealth = np.array([h["wealth"] for h in history])
    w = np.stack([h["w"] for h in history])  # [T, N+1]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(6, 4.5), sharex=True)
    ax1.plot(wealth)
    ax1.set_ylabel("wealth")
    ax2.stackplot(np.arange(len(history)), w.T, labels=("cash",) + tuple(tickers))
    ax2.set_ylabel("holdings w′")
    ax2.set_xlabel("step")
    ax2.set_ylim(0, 1)
    if w.shape[1] <= 12:
        ax2.legend(fontsize=6, ncol=4, loc="upper left")
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image
