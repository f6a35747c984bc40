"""opsrl: reinforcement-learning environments for operations research, with OR baselines.

``import opsrl`` registers every environment id with Gymnasium::

    import gymnasium as gym
    import opsrl

    env = gym.make("opsrl/InventoryNetwork-v0", preset="serial_4")
    envs = gym.make_vec("opsrl/InventoryNetwork-v0", num_envs=4096, preset="one_store_backlogged")
"""

from opsrl.registration import list_envs, list_presets, make_problem, register_envs

__version__ = "0.1.0"

register_envs()

__all__ = ["__version__", "list_envs", "list_presets", "make_problem", "register_envs"]
