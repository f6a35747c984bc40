"""opsrl: reinforcement-learning environments for operations research, with OR baselines.

``import opsrl`` registers every environment id with Gymnasium::

    import gymnasium as gym
    import opsrl

    env = gym.make("opsrl/InventoryNetwork-v0", preset="serial_4")
    envs = gym.make_vec("opsrl/InventoryNetwork-v0", num_envs=4096, preset="one_store_backlogged")
"""

import os

# numba's parallel kernels and torch share the machine's cores; with OpenMP's default busy-waiting, idle
# numba workers spin and slow torch (and each other) by up to 10x on a small machine. Passive waiting costs
# nothing measurable. Set before numba or torch start their thread pools; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from opsrl.registration import list_envs, list_presets, make_problem, register_envs  # noqa: E402

__version__ = "0.1.0"

register_envs()

__all__ = ["__version__", "list_envs", "list_presets", "make_problem", "register_envs"]
