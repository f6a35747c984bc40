"""MAPPO and IPPO for the PettingZoo envs of opsrl (``opsrl train mappo|ippo --env opsrl.marl.<module>``).

Both are PPO with one actor shared by every agent (parameter sharing: agents are told apart by what is in
their observation — the DRAM agents' one-hot id — or, with ``add_agent_id=True``, by an appended one-hot);
they differ only in the critic (Yu et al., "The Surprising Effectiveness of PPO in Cooperative Multi-Agent
Games", 2022; de Witt et al., "Is Independent Learning All You Need in the StarCraft Multi-Agent Challenge?",
2020):

* **MAPPO** — a centralised critic on the env's global ``state()``, by default with the agent's one-hot
  appended, V(s, i) (the "agent-specific global state" of Yu et al., so agents with their own rewards, like
  the ride-sharing vehicles, get their own values); ``critic_agent_id=False`` gives the plain V(s) that suits a
  shared team reward. Value normalisation: running mean/std of the value targets (``normalize_value``);
* **IPPO** — a decentralised critic V(o_i) on the agent's own observation.

Everything else is the PPO core (:mod:`opsrl.algos.ppo`): rollouts, GAE, the clipped losses, the update,
normalisers, checkpoints and the progress log. The trick that lets the core run unchanged is
:class:`ParallelVecEnv`: ``num_envs`` copies of a ``ParallelEnv`` are presented as a vector env with one
row per (copy, agent), and each row's observation is ``[actor input | critic input]``; the agent network
(:class:`MultiAgentActorCritic`) reads the first part in the actor and the second in the critic.

Spaces: Dict (or any) observations are flattened with ``gymnasium.spaces.flatten``. Actions go through the
shared :class:`~opsrl.policies.mlp.ActionHead`: ``Box`` (every agent the same shape; e.g. the ride-sharing
vehicles' order scores) or ``Discrete`` of *different* sizes (the DRAM knobs: one head of max(n_k) logits,
indices ≥ n_k masked, as the env's ``padded_action_mask`` says). Agents must all act at every step and end
their episode together (true of every opsrl ParallelEnv).

Budget: ``total_timesteps`` counts *joint* env steps (one ``ParallelEnv.step`` of one copy: one simulator call
on the DRAM env), so a run can be bounded by simulator calls; ``budget_seconds`` bounds it by wall time.

Checkpoints (``out/``): ``opsrl_policy.json`` with the loader :func:`load_policy`, ``agent.pt``,
``train_state.pt`` and ``progress.csv``, all loaded with ``weights_only=True``. Running the same command again
resumes from ``train_state.pt``: weights, optimiser, normalisers, counters and torch's RNG are restored and the
env copies are re-seeded from (seed, update) — PettingZoo envs have no portable state, so a resumed run is
deterministic but not bit-identical to an uninterrupted one.

Evaluation: :func:`evaluate_parallel` runs the greedy shared actor on the PettingZoo env. A DRAM checkpoint
also acts on the Gymnasium twin ``opsrl/DramController-v0`` (bandit form): its MultiDiscrete action is the
joint action of the ten knob agents, so ``opsrl eval --policy OUT --env opsrl/DramController-v0 --preset P``
reports the configuration's objective and its gap to the exhaustive optimum.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from opsrl.algos.checkpoint import load_train_state
from opsrl.algos.ppo import PPO, PPOConfig, RunningMeanStd, config_from, to_torch
from opsrl.policies.base import CHECKPOINT_FILE, Policy
from opsrl.policies.mlp import ActionHead, mlp


@dataclasses.dataclass
class MAPPOConfig(PPOConfig):
    """PPO's fields with multi-agent defaults. The fields below are new or change meaning; PPO's ``policy`` and
    ``obs_mode`` are not used (the network is :class:`MultiAgentActorCritic` on flattened observations)."""

    num_envs: int = 8
    """Copies of the ParallelEnv stepped per rollout step (the batch holds ``num_envs · agents`` rows)."""
    num_steps: int = 64
    """Joint steps per copy per rollout. One-step envs (the DRAM bandit) alternate a step and an autoreset,
    so ``num_steps=2`` gives one simulator call per copy per rollout."""
    total_timesteps: int = 200_000
    """Stop after this many joint env steps over all copies (DRAM: simulator calls)."""
    critic: str = "centralized"
    """``centralized`` (MAPPO: V(state(), agent one-hot)) or ``decentralized`` (IPPO: V(own observation))."""
    critic_agent_id: bool = True
    """Centralised critic only: append the agent's one-hot to ``state()``. On the DRAM env an agent's
    observation *is* ``state()`` + its one-hot, so with True MAPPO and IPPO see the same critic input."""
    add_agent_id: bool = False
    """Append the agent's one-hot to the actor's observation (the DRAM observation already carries it)."""
    ent_coef: float = 0.01


CRITICS = ("centralized", "decentralized")


def make_parallel_env(env_id: str, preset: str | None, overrides: dict[str, Any]):
    """``opsrl.marl.<name>`` (the module path is the env id of a PettingZoo env) → ``parallel_env(...)``."""
    if not env_id.startswith("opsrl.marl."):
        raise ValueError(f"env={env_id!r} is not a PettingZoo env of opsrl: pass its module path, e.g. "
                         "opsrl.marl.dram_controller_v0 or opsrl.marl.ride_sharing_v0")
    try:
        module = importlib.import_module(env_id)
    except ModuleNotFoundError as exc:
        raise ValueError(f"env={env_id!r}: no such module ({exc})") from exc
    return module.parallel_env(preset=preset, **overrides)


def joint_action_space(env) -> tuple[spaces.Space, np.ndarray | None]:
    """The action space of the shared actor and, for Discrete agents of different sizes, the padding mask
    ``[agents, max n]`` (1 = valid index)."""
    acts = [env.action_space(a) for a in env.possible_agents]
    if all(isinstance(s, spaces.Discrete) for s in acts):
        n = np.array([int(s.n) for s in acts])
        if any(int(s.start) != 0 for s in acts):
            raise ValueError("Discrete action spaces with start != 0 are not supported")
        return spaces.Discrete(int(n.max())), (np.arange(n.max())[None, :] < n[:, None]).astype(np.int8)
    if all(isinstance(s, spaces.Box) and s == acts[0] for s in acts):
        return acts[0], None
    raise ValueError(f"a shared actor needs Discrete agents or identical Box agents; got {set(map(str, acts))}")


class ParallelVecEnv:
    """``num_envs`` copies of a PettingZoo ``ParallelEnv`` as a vector env of ``num_envs · agents`` rows.

    Row ``i·A + k`` is agent k of copy i; its observation is ``[flat obs (+ one-hot) | critic input]``
    (critic input: flat ``state()`` (+ one-hot) for the centralised critic, nothing for the decentralised one).
    Autoreset follows the PPO core's NEXT_STEP contract: after a copy's episode ends, its next ``step``
    ignores the actions, resets it and returns reward 0. ``info["action_mask"]`` pads Discrete agents.
    ``env_steps`` counts joint steps taken (not resets).
    """

    def __init__(self, make_env: Callable[[], Any], num_envs: int, critic: str = "centralized",
                 add_agent_id: bool = False, critic_agent_id: bool = True) -> None:
        if critic not in CRITICS:
            raise ValueError(f"critic={critic!r} is invalid: must be one of {CRITICS}")
        if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} is invalid: must be an integer >= 1")
        self.envs = [make_env() for _ in range(num_envs)]
        env = self.envs[0]
        self.agents = list(env.possible_agents)
        self.n_agents, self.num_copies = len(self.agents), int(num_envs)
        self.num_envs = self.num_copies * self.n_agents  # rows, as the PPO core calls them
        self.critic, self.add_agent_id, self.critic_agent_id = critic, add_agent_id, critic_agent_id
        self.obs_spaces = [env.observation_space(a) for a in self.agents]
        dims = {spaces.flatdim(s) for s in self.obs_spaces}
        if len(dims) != 1:
            raise ValueError(f"a shared actor needs observations of one size; got flat sizes {sorted(dims)}")
        self.actor_dim = dims.pop() + (self.n_agents if add_agent_id else 0)
        if critic == "centralized":
            if getattr(env, "state_space", None) is None:
                raise ValueError("critic='centralized' (MAPPO) needs the env's state_space/state(); use IPPO")
            self.critic_dim = spaces.flatdim(env.state_space) + (self.n_agents if critic_agent_id else 0)
        else:
            self.critic_dim = 0  # the critic reads the actor's input
        self.single_action_space, self.pad_mask = joint_action_space(env)
        self.single_observation_space = spaces.Box(-np.inf, np.inf, (self.actor_dim + self.critic_dim,), np.float32)
        self.eye = np.eye(self.n_agents, dtype=np.float32)
        self.pending = np.zeros(self.num_copies, dtype=bool)
        self.last = np.zeros((self.num_envs, self.actor_dim + self.critic_dim), dtype=np.float32)
        self.env_steps = 0

    # -- rows of one copy ---------------------------------------------------------------------------------
    def _rows(self, env, obs: dict[str, Any]) -> np.ndarray:
        out = np.zeros((self.n_agents, self.actor_dim + self.critic_dim), dtype=np.float32)
        for k, a in enumerate(self.agents):
            if a in obs:  # an agent without an observation keeps zeros
                flat = spaces.flatten(self.obs_spaces[k], obs[a])
                out[k, :flat.shape[0]] = flat
        if self.add_agent_id:
            out[:, self.actor_dim - self.n_agents:self.actor_dim] = self.eye
        if self.critic == "centralized":
            state = spaces.flatten(env.state_space, env.state())
            out[:, self.actor_dim:self.actor_dim + state.shape[0]] = state
            if self.critic_agent_id:
                out[:, self.actor_dim + state.shape[0]:] = self.eye
        return out

    def _mask(self, infos: list[dict[str, Any]]) -> np.ndarray | None:
        if self.pad_mask is None:
            return None
        mask = np.tile(self.pad_mask, (self.num_copies, 1))
        for i, info in enumerate(infos):  # the env's own masks (padded or per-step) narrow the padding
            for k, a in enumerate(self.agents):
                m = info.get(a, {}).get("padded_action_mask", info.get(a, {}).get("action_mask"))
                if m is not None and len(m) == mask.shape[1]:
                    mask[i * self.n_agents + k] &= np.asarray(m, dtype=np.int8)
        return mask

    def _info(self, infos: list[dict[str, Any]]) -> dict[str, Any]:
        mask = self._mask(infos)
        return {} if mask is None else {"action_mask": mask}

    # -- vector-env API -----------------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        infos = []
        for i, env in enumerate(self.envs):
            obs, info = env.reset(seed=None if seed is None else seed + i)
            self.last[i * self.n_agents:(i + 1) * self.n_agents] = self._rows(env, obs)
            infos.append(info)
        self.pending[:] = False
        return self.last.copy(), self._info(infos)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        A = self.n_agents
        reward = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        infos = []
        for i, env in enumerate(self.envs):
            rows = slice(i * A, (i + 1) * A)
            if self.pending[i]:
                obs, info = env.reset()
                self.pending[i] = False
            else:
                act = {a: self._agent_action(actions[i * A + k]) for k, a in enumerate(self.agents)}
                obs, rew, term, trunc, info = env.step(act)
                self.env_steps += 1
                reward[rows] = [rew.get(a, 0.0) for a in self.agents]
                terminated[rows] = [term.get(a, False) for a in self.agents]
                truncated[rows] = [trunc.get(a, False) for a in self.agents]
                done = terminated[rows] | truncated[rows]
                if done.any() and not done.all():
                    raise ValueError("ParallelVecEnv: agents of one env ended at different steps; a shared "
                                     "rollout needs them to end together")
                self.pending[i] = bool(done.all()) or not env.agents
            self.last[rows] = self._rows(env, obs)
            infos.append(info)
        return self.last.copy(), reward, terminated, truncated, self._info(infos)

    def _agent_action(self, a: np.ndarray) -> Any:
        return int(a) if self.pad_mask is not None else np.asarray(a, dtype=self.single_action_space.dtype)


class MultiAgentActorCritic(nn.Module):
    """Shared actor on the first ``actor_dim`` features of a row, critic on the rest (or on the actor's
    input when ``critic_dim == 0``). Same interface as :class:`~opsrl.policies.mlp.MLPActorCritic`."""

    def __init__(self, actor_dim: int, critic_dim: int, action_space: spaces.Space,
                 hidden: tuple[int, ...] = (64, 64)) -> None:
        super().__init__()
        self.actor_dim, self.critic_dim = actor_dim, critic_dim
        self.head = ActionHead(action_space)
        self.actor = mlp(actor_dim, hidden, self.head.n_out, out_std=0.01)
        self.critic = mlp(critic_dim or actor_dim, hidden, 1, out_std=1.0)

    def _critic_in(self, obs: torch.Tensor) -> torch.Tensor:
        return obs[:, self.actor_dim:] if self.critic_dim else obs[:, :self.actor_dim]

    def forward(self, obs: torch.Tensor, mask: torch.Tensor | None = None):
        dist = self.head.distribution(self.actor(obs[:, :self.actor_dim]), mask)
        return dist, self.critic(self._critic_in(obs)).squeeze(-1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(self._critic_in(obs)).squeeze(-1)


class MAPPO(PPO):
    """A MAPPO/IPPO run: the PPO core on the (copy, agent) rows of :class:`ParallelVecEnv`."""

    algo = "mappo"

    def __init__(self, env_id: str, preset: str | None, overrides: dict[str, Any], config: MAPPOConfig, seed: int,
                 out: str) -> None:
        # not PPO.__init__: that builds the Gymnasium vector env of a registered id
        if config.mix_presets:
            raise ValueError("mix_presets is an option of ppo and pdppo, not of mappo/ippo")
        self.env_id, self.preset, self.overrides = env_id, preset, dict(overrides)
        self.config, self.seed, self.out = config, seed, out
        self.algo = "mappo" if config.critic == "centralized" else "ippo"
        torch.set_num_threads(config.torch_threads)
        torch.manual_seed(seed)
        self.envs = ParallelVecEnv(lambda: make_parallel_env(env_id, preset, dict(overrides)), config.num_envs,
                                   config.critic, config.add_agent_id, config.critic_agent_id)
        self.rows = self.envs.num_envs
        self.flat = True
        self.agent = MultiAgentActorCritic(self.envs.actor_dim, self.envs.critic_dim,
                                           self.envs.single_action_space, tuple(config.hidden))
        self.optimizer = torch.optim.Adam(self.agent.parameters(), lr=config.learning_rate, eps=1e-5)
        self.obs_rms = RunningMeanStd(self.envs.single_observation_space.shape)
        self.ret_rms, self.value_rms = RunningMeanStd(), RunningMeanStd()
        self.update_idx, self.global_step, self.elapsed = 0, 0, 0.0
        self.recent_returns: list[float] = []
        self._reset_envs(seed)

    def _reset_envs(self, seed: int) -> None:
        self.obs, self.info = self.envs.reset(seed=seed)
        self.discounted = np.zeros(self.rows)
        self.ep_return = np.zeros(self.rows)
        self.pending_reset = np.zeros(self.rows, dtype=bool)

    def collect(self) -> dict[str, Any]:
        """The PPO core's rollout with ``config.num_envs`` swapped for the row count while it runs, and
        ``global_step`` counting joint env steps instead of rows."""
        cfg = self.config
        self.config = dataclasses.replace(cfg, num_envs=self.rows)
        try:
            buf = super().collect()
        finally:
            self.config = cfg
        self.global_step = self.envs.env_steps
        return buf

    def advantages(self, buf: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        self.config = dataclasses.replace(cfg, num_envs=self.rows)
        try:
            return super().advantages(buf)
        finally:
            self.config = cfg

    def progress_text(self) -> str:
        ret = np.mean(self.recent_returns[-20 * self.envs.n_agents:]) if self.recent_returns else float("nan")
        return f"env step {self.global_step:,} agent return {ret:.3f}"

    # -- checkpoints ----------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return {"loader": "opsrl.algos.mappo:load_policy", "algo": self.algo, "env_id": self.env_id,
                "preset": self.preset, "overrides": self.overrides, "seed": self.seed,
                "agents": self.envs.agents, "actor_dim": self.envs.actor_dim, "critic_dim": self.envs.critic_dim,
                "config": dataclasses.asdict(self.config)}

    def save(self) -> None:
        # PettingZoo envs have no portable state: a resumed run re-seeds its env copies (see try_resume)
        self.write_checkpoint(self.learner_state(n_returns=1000))

    def try_resume(self) -> bool:
        s = load_train_state(self.out)
        if s is None:
            return False
        self.load_learner_state(s)
        self.envs.env_steps = self.global_step
        self._reset_envs(self.seed + 7919 * self.update_idx)  # a fresh, reproducible stream of episodes
        return True

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"algo": self.algo, "updates": self.update_idx, "env_steps": self.global_step,
                               "global_step": self.global_step, "seconds": round(self.elapsed, 2)}
        if self.config.eval_episodes:
            out["eval"] = evaluate_parallel(self.out, episodes=self.config.eval_episodes, seed=10_000)
        return out


# -- greedy evaluation ------------------------------------------------------------------------------------
class SharedActor:
    """The greedy shared actor of a checkpoint, acting on :class:`ParallelVecEnv` rows."""

    def __init__(self, path: str, action_space: spaces.Space) -> None:
        with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
            self.meta = json.load(fh)
        fields = {f.name for f in dataclasses.fields(MAPPOConfig)}
        self.config = MAPPOConfig(**{k: (tuple(v) if k == "hidden" else v) for k, v in self.meta["config"].items()
                                     if k in fields})
        state = torch.load(os.path.join(path, "agent.pt"), weights_only=True)
        actor_dim, critic_dim = int(self.meta["actor_dim"]), int(self.meta["critic_dim"])
        self.agent = MultiAgentActorCritic(actor_dim, critic_dim, action_space, tuple(self.config.hidden))
        self.agent.load_state_dict(state["agent"])
        self.agent.eval()
        self.rms = RunningMeanStd()
        self.rms.load(state["obs_rms"])
        self.actor_dim = actor_dim

    def act(self, actor_obs: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Greedy actions for rows of actor inputs ``[rows, actor_dim]``."""
        x = np.asarray(actor_obs, dtype=np.float64)
        if self.config.normalize_obs:
            mean, var = self.rms.mean[:self.actor_dim], self.rms.var[:self.actor_dim]
            x = np.clip((x - mean) / np.sqrt(var + 1e-8), -10, 10)
        full = np.zeros((x.shape[0], self.actor_dim + self.agent.critic_dim), dtype=np.float32)
        full[:, :self.actor_dim] = x
        with torch.no_grad():
            dist, _ = self.agent(to_torch(full), None if mask is None else torch.as_tensor(mask))
            return self.agent.head.to_env(dist.mode().numpy())


def load_actor(path: str) -> SharedActor:
    """The greedy shared actor of ``path`` (the action space is rebuilt from the env in the manifest)."""
    with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    env = make_parallel_env(meta["env_id"], meta["preset"], dict(meta["overrides"]))
    return SharedActor(path, joint_action_space(env)[0])


def evaluate_parallel(path: str, episodes: int = 10, seed: int = 0, env: Any = None) -> dict[str, Any]:
    """Greedy rollouts of the checkpoint ``path`` on its PettingZoo env (or ``env``): the mean episode return
    per agent (mean ± 95% CI over episodes) and, on the DRAM env, the mean objective J of the configurations."""
    from opsrl.eval.stats import mean_ci95

    actor = load_actor(path)
    meta, cfg = actor.meta, actor.config
    vec = ParallelVecEnv(lambda: env if env is not None else make_parallel_env(meta["env_id"], meta["preset"],
                                                                              dict(meta["overrides"])),
                         1, cfg.critic, cfg.add_agent_id, cfg.critic_agent_id)
    returns, objectives = [], []
    for ep in range(episodes):
        e = vec.envs[0]
        obs, infos = e.reset(seed=seed + ep)
        total = 0.0
        while e.agents:
            rows = vec._rows(e, obs)[:, :vec.actor_dim]
            actions = actor.act(rows, vec._mask([infos]))
            act = {a: vec._agent_action(actions[k]) for k, a in enumerate(vec.agents)}
            obs, rew, term, trunc, infos = e.step(act)
            total += float(np.mean([rew.get(a, 0.0) for a in vec.agents]))
            first = infos.get(vec.agents[0], {})
            if "objective" in first and (all(term.values()) or all(trunc.values())):
                objectives.append(float(first["objective"]))
        returns.append(total)
    mean, ci = mean_ci95(np.array(returns))
    out = {"episodes": episodes, "mean_return": mean, "ci95": ci}
    if objectives:
        out["mean_objective"] = float(np.mean(objectives))
    return out


# -- the Gymnasium twin of the DRAM env -------------------------------------------------------------------
class DramJointPolicy(Policy):
    """A DRAM MAPPO/IPPO checkpoint acting on ``opsrl/DramController-v0`` (bandit form): agent k's input is the
    23-d shared observation + one-hot(k) — exactly its PettingZoo observation — and the ten greedy knob
    choices form the MultiDiscrete joint action."""

    name = "mappo"

    def __init__(self, problem, actor: SharedActor) -> None:
        super().__init__(problem)
        from opsrl.envs.dram.simulator import NVEC

        self.actor, self.nvec = actor, np.asarray(NVEC)
        self.name = actor.meta["algo"]
        n = len(self.nvec)
        self.pad = (np.arange(int(self.nvec.max()))[None, :] < self.nvec[:, None]).astype(np.int8)
        self.eye = np.eye(n, dtype=np.float32)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        B, n = obs.shape[0], len(self.nvec)
        rows = np.concatenate([np.repeat(obs, n, axis=0), np.tile(self.eye, (B, 1))], axis=1)
        return self.actor.act(rows, np.tile(self.pad, (B, 1))).reshape(B, n)


class RideJointPolicy(Policy):
    """A ride-sharing MAPPO/IPPO checkpoint as the dispatcher of ``opsrl/RideSharing-v0``: vehicle i's PettingZoo
    observation is rebuilt from the dispatcher's observation (one kernel writes both), and its greedy score row
    becomes row i of the score matrix that the central assignment turns into matches."""

    name = "mappo"

    def __init__(self, problem, actor: SharedActor, agent_space: spaces.Dict) -> None:
        super().__init__(problem)
        self.actor, self.space = actor, agent_space
        self.name = actor.meta["algo"]

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        p = self.problem
        d = obs if isinstance(obs, dict) else p.split_flat(np.asarray(obs))
        B, V = d["vehicles"].shape[:2]
        omask = np.repeat(d["order_mask"], V, axis=0)  # [B·V, O]
        blocks = {"eligible_orders": omask * np.asarray(d["vehicle_mask"]).reshape(B * V, 1),
                  "order_mask": omask, "orders": np.repeat(np.asarray(d["orders"]).reshape(B, -1), V, axis=0),
                  "self": np.asarray(d["vehicles"]).reshape(B * V, -1)}
        n_obs = spaces.flatdim(self.space)
        rows = np.zeros((B * V, self.actor.actor_dim), dtype=np.float32)
        # spaces.flatten of the agent's Dict concatenates its keys in the space's order
        rows[:, :n_obs] = np.concatenate([blocks[k] for k in self.space.spaces], axis=1)
        if self.actor.config.add_agent_id:
            rows[:, n_obs:] = np.tile(np.eye(V, dtype=np.float32), (B, 1))
        return self.actor.act(rows, None).reshape(B, V, p.O)


def load_policy(path: str, problem) -> Policy:
    """Loader of the manifest: a DRAM checkpoint for the Gymnasium twin ``opsrl/DramController-v0``, a
    ride-sharing one for the dispatcher ``opsrl/RideSharing-v0`` (same preset sizes)."""
    from opsrl.envs.dram.env import SHARED_DIM, DramController
    from opsrl.envs.ride_sharing.env import RideSharing

    actor = load_actor(path)
    if actor.meta["env_id"] == "opsrl.marl.ride_sharing_v0" and isinstance(problem, RideSharing):
        env = make_parallel_env(actor.meta["env_id"], actor.meta["preset"], dict(actor.meta["overrides"]))
        if (env.problem.V, env.problem.O) != (problem.V, problem.O):
            raise ValueError(f"{path}: trained with {env.problem.V} vehicles and {env.problem.O} order slots; this "
                             f"instance has {problem.V} and {problem.O}")
        return RideJointPolicy(problem, actor, env.observation_space(env.possible_agents[0]))
    if not (actor.meta["env_id"] == "opsrl.marl.dram_controller_v0" and isinstance(problem, DramController)
            and not problem.sequential and problem.obs_mode == "flat" and not actor.config.add_agent_id):
        raise ValueError(f"{path}: this {actor.meta['env_id']} checkpoint has no Gymnasium loader (only "
                         "opsrl.marl.dram_controller_v0 checkpoints act on opsrl/DramController-v0, bandit form); "
                         "evaluate it on its PettingZoo env with opsrl.algos.mappo.evaluate_parallel")
    if actor.actor_dim != SHARED_DIM + 10:
        raise ValueError(f"{path}: actor input has {actor.actor_dim} features, expected {SHARED_DIM + 10}")
    return DramJointPolicy(problem, actor)


# -- entry points -------------------------------------------------------------------------------------------
def train(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int, budget_seconds: float, out: str,
          **options: Any) -> dict[str, Any]:
    """``opsrl train mappo --env opsrl.marl.<name>``: train (or resume) MAPPO and return a summary."""
    options.setdefault("critic", "centralized")
    run = MAPPO(env_id, preset, overrides, config_from(options, MAPPOConfig), seed, out)
    run.start()
    return run.run(budget_seconds)


def train_ippo(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int, budget_seconds: float,
               out: str, **options: Any) -> dict[str, Any]:
    """``opsrl train ippo``: MAPPO with the decentralised critic."""
    if options.get("critic", "decentralized") != "decentralized":
        raise ValueError("ippo: critic must be 'decentralized' (use mappo for the centralised critic)")
    return train(env_id, preset, overrides, seed, budget_seconds, out, **{**options, "critic": "decentralized"})
