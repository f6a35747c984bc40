"""DRAM memory-controller design-space exploration (spec ``dram.md``; env card ``envs/dram.md``).

``simulate(trace, config, memory)`` runs one trace through one controller configuration on the numba
simulator; ``opsrl/DramController-v0`` (Gymnasium) and ``opsrl.marl.dram_controller_v0`` (PettingZoo, one agent
per knob) turn the 10-knob design space into environments.
"""

from opsrl.envs.dram.simulator import (
    EXPERT_CONFIG,
    KNOB_NAMES,
    KNOBS,
    N_CONFIGS,
    NVEC,
    REFERENCE_CONFIG,
    Evaluator,
    canonical_space,
    canonicalize,
    decode_config,
    encode_config,
    simulate,
)
from opsrl.envs.dram.traces import Trace, TraceError, load_trace, make_trace, save_trace

__all__ = ["EXPERT_CONFIG", "KNOBS", "KNOB_NAMES", "NVEC", "N_CONFIGS", "REFERENCE_CONFIG", "Evaluator", "Trace",
           "TraceError", "canonical_space", "canonicalize", "decode_config", "encode_config", "load_trace",
           "make_trace", "save_trace", "simulate"]
