"""Parameters and presets of the DRAM controller family (``opsrl/DramController-v0``, spec §3.4–§3.5).

Every field can be overridden on top of a preset: ``gym.make("opsrl/DramController-v0",
preset="archgym_ddr3_random", objective="power")`` or ``opsrl eval ... --set objective=power``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import ClassVar

from opsrl.core.errors import one_of, require
from opsrl.core.params import Params
from opsrl.envs.dram.devices import DEVICES
from opsrl.envs.dram.traces import ALIASES, TRACE_NAMES

FORMS = ("bandit", "sequential")
OBJECTIVES = ("latency", "power", "energy_delay", "both")
REWARD_MODES = ("normalized", "efficiency", "target_bounded", "archgym_latency", "archgym_power", "archgym_both")
STARTS = ("reference", "random")


@dataclasses.dataclass(frozen=True)
class DramParams(Params):
    """Parameters of one DRAM design-space-exploration instance (spec ``dram.md`` §3.4)."""

    default_preset: ClassVar[str] = "archgym_ddr3_random"

    memory: str = "DDR3-1600"
    """Device: ``DDR3-1600`` (rbc map) or ``DDR4-2400`` (DRAMSys brc map)."""
    trace: str = "random"
    """A generated trace (stream, random, cloud1, cloud2, *_rw, copy, seq200k, rand200k) or an STL file path."""
    n_requests: int | None = None
    """Requests of a generated trace (default 10,000; 200,000 for the *200k traces)."""
    write_fraction: float | None = None
    """Write probability of a generated trace (default: 0, or 0.3 for *_rw)."""
    trace_seed: int = 0
    """Seed of the random and cloud generators."""
    resample_trace: bool = False
    """Regenerate random/cloud traces from a per-episode seed at every reset (a stochastic bandit; no cache)."""
    form: str = "bandit"
    """``bandit``: one MultiDiscrete step sets every knob; ``sequential``: one knob per step (Discrete(8), masked)."""
    objective: str = "latency"
    """What is minimised: ``latency`` (makespan ns), ``power`` (mW), ``energy_delay`` (µJ·µs) or ``both``
    (½·makespan/ref + ½·power/ref)."""
    reward_mode: str = "normalized"
    """``normalized`` (clip(1 − J/J_ref, −1, 1), default), ``efficiency`` (data-bus bound / makespan),
    ``target_bounded``, or the ArchGym target rewards ``archgym_latency|power|both`` (unit bug fixed)."""
    target_latency: float = 0.1
    """ArchGym latency target, in makespan_ns·latency_scale units (0.1 with 1e−6 = 100 µs)."""
    target_power: float = 1.0
    """ArchGym power target in W."""
    latency_scale: float = 1e-6
    """ArchGym latency scaling of the makespan in ns (1e−6 = DRAMEnv_RL, 1e−9 = DRAMEnv)."""
    reward_cap: float = 1e3
    """Cap of the ArchGym target rewards (they are unbounded at the target)."""
    reward_scaling: bool = False
    """ArchGym ``archgym_both`` scaling: power term ÷ 350, latency term ÷ 20."""
    horizon: int = 10
    """Sequential form: steps per episode (≥ 10; knob t mod 10 is set at step t)."""
    simulate_every_step: bool = False
    """Sequential form: dense reward r(c_t) − r(c_{t−1}) (one simulation per step) instead of r(c_H) at the end."""
    start: str = "reference"
    """Sequential form: start from the reference configuration (all zeros) or a uniformly random one."""
    cache: bool = True
    """Memoise evaluations by canonical configuration (spec §2.2)."""

    def validate(self) -> None:
        one_of("memory", self.memory, list(DEVICES))
        key = ALIASES.get(str(self.trace).lower(), str(self.trace).lower())
        require(key in TRACE_NAMES or os.path.isfile(str(self.trace)), "trace", self.trace,
                f"must be one of {list(TRACE_NAMES)} or an existing STL trace file")
        if self.n_requests is not None:
            require(isinstance(self.n_requests, int) and 1 <= self.n_requests <= 10_000_000, "n_requests",
                    self.n_requests, "must be an integer in [1, 10,000,000]")
        if self.write_fraction is not None:
            require(isinstance(self.write_fraction, (int, float)) and 0.0 <= self.write_fraction <= 1.0,
                    "write_fraction", self.write_fraction, "must be in [0, 1]")
        require(isinstance(self.trace_seed, int) and self.trace_seed >= 0, "trace_seed", self.trace_seed,
                "must be an integer >= 0")
        one_of("form", self.form, FORMS)
        one_of("objective", self.objective, OBJECTIVES)
        one_of("reward_mode", self.reward_mode, REWARD_MODES)
        one_of("start", self.start, STARTS)
        for name in ("target_latency", "target_power", "latency_scale", "reward_cap"):
            v = getattr(self, name)
            require(isinstance(v, (int, float)) and v > 0 and v < float("inf"), name, v, "must be a finite number > 0")
        require(isinstance(self.horizon, int) and self.horizon >= 10, "horizon", self.horizon,
                "must be an integer >= 10 (one step per knob)")
        if self.reward_mode == "efficiency":
            require(self.objective == "latency", "objective", self.objective,
                    "reward_mode='efficiency' rewards makespan only: use objective='latency'")

    @classmethod
    def presets(cls):
        ddr3 = {"memory": "DDR3-1600"}
        ddr4 = {"memory": "DDR4-2400"}
        return {
            "archgym_ddr3_stream": {**ddr3, "trace": "stream"},
            "archgym_ddr3_random": {**ddr3, "trace": "random"},
            "archgym_ddr3_cloud1": {**ddr3, "trace": "cloud1"},
            "archgym_ddr3_cloud2": {**ddr3, "trace": "cloud2"},
            "ddr4_2400_stream": {**ddr4, "trace": "stream"},
            "ddr4_2400_random": {**ddr4, "trace": "random"},
            "ddr4_2400_cloud1": {**ddr4, "trace": "cloud1"},
            "ddr4_2400_cloud2": {**ddr4, "trace": "cloud2"},
            "ddr3_stream_rw": {**ddr3, "trace": "stream_rw"},
            "ddr3_random_rw": {**ddr3, "trace": "random_rw"},
            "ddr3_cloud1_rw": {**ddr3, "trace": "cloud1_rw"},
            "ddr3_copy": {**ddr3, "trace": "copy"},
            "ddr3_seq200k": {**ddr3, "trace": "seq200k"},
            "ddr3_rand200k": {**ddr3, "trace": "rand200k"},
            "archgym_ddr3_random_sequential": {**ddr3, "trace": "random", "form": "sequential"},
        }
