"""Views of a ride-sharing snapshot: a text summary and a city map (zones, vehicles coloured by load,
pending orders and each vehicle's next stop)."""

from __future__ import annotations

from typing import Any

import numpy as np


def render_ansi(problem, snap: dict[str, Any]) -> str:
    m = snap["metrics"]
    load = np.bincount(snap["load"], minlength=problem.C + 1)
    lines = [f"epoch {snap['t']}/{problem.params.epochs}  vehicles {problem.V} (eligible {int(snap['eligible'].sum())})"
             f"  pending orders {len(snap['orders'])}",
             "load  " + "  ".join(f"{k}:{int(n)}" for k, n in enumerate(load)),
             f"served {m['served']:.0f}  lost {m['lost']:.0f}  completed {m['completed']:.0f}  "
             f"mean pickup {m['mean_pickup_min']:.2f} min  vehicle km {m['vehicle_km']:.1f}  return {m['return']:.2f}"]
    return "\n".join(lines)


def render_rgb(problem, snap: dict[str, Any]) -> np.ndarray:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    city = problem.city
    x0, x1, y0, y1 = city.bbox
    aspect = (y1 - y0) / max(x1 - x0, 1e-9)
    fig, ax = plt.subplots(figsize=(4.0, min(max(4.0 * aspect, 3.0), 10.0)), dpi=80)
    for z in range(city.n_zones):
        (cx, cy), (hw, hh) = city.centroid[z], city.half[z]
        ax.add_patch(Rectangle((cx - hw, cy - hh), 2 * hw, 2 * hh, fill=False, lw=0.3, color="0.7"))
    o = snap["orders"]
    if len(o):
        ax.scatter(o[:, 0], o[:, 1], s=8, marker="x", color="tab:red", label="pending pickup")
    pos, tgt = snap["pos"], snap["targets"]
    moving = np.isfinite(tgt[:, 0])
    for i in np.flatnonzero(moving)[:300]:  # lines to the next stop (capped to keep big fleets readable)
        ax.plot([pos[i, 0], tgt[i, 0]], [pos[i, 1], tgt[i, 1]], lw=0.3, color="0.5")
    sc = ax.scatter(pos[:, 0], pos[:, 1], c=snap["load"], cmap="viridis", vmin=0, vmax=problem.C, s=10)
    fig.colorbar(sc, ax=ax, label="passengers assigned")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    m = snap["metrics"]
    ax.set_title(f"epoch {snap['t']}: served {m['served']:.0f}, lost {m['lost']:.0f}", fontsize=8)
    fig.tight_layout()
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
    plt.close(fig)
    return img
