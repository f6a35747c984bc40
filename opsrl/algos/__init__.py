"""Training algorithms, found by name by ``opsrl train ALGO``.

Each entry is ``module:function`` with ``function(env_id, preset, overrides, seed, budget_seconds, out,
**options) -> dict`` that writes a checkpoint directory ``out`` which ``opsrl eval --policy out`` loads.
"""

ALGOS: dict[str, str] = {
    "tune": "opsrl.algos.tune:train",
    "hdpo": "opsrl.algos.hdpo:train",
    "ppo": "opsrl.algos.ppo:train",
    "pdppo": "opsrl.algos.pdppo:train",
    "ospo": "opsrl.algos.ospo:train",
    "grpo": "opsrl.algos.ospo:train_grpo",
    "mappo": "opsrl.algos.mappo:train",
    "ippo": "opsrl.algos.mappo:train_ippo",
}
