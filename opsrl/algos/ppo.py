"""Proximal Policy Optimization — the one on-policy core of opsrl (``opsrl train ppo``).

Reads top to bottom like CleanRL's ``ppo.py``: a documented :class:`PPOConfig`, rollouts on the native
batched vector env of any opsrl id, generalised advantage estimation, the clipped surrogate with a clipped
value loss, entropy bonus, action masks, running normalisation of observations, rewards and value targets.
The steps are methods of :class:`PPO` so algorithms that change one step reuse the rest:
PDPPO overrides :meth:`PPO.advantages` and :meth:`PPO.loss`, MAPPO the agent and the value input, OSPO
and GRPO replace the critic in :meth:`PPO.advantages`.

NEXT_STEP autoreset: after an env ends at step t, the obs stored for step t+1 is the episode's final
observation and that step's action is ignored by the env. The final observation bootstraps truncated
episodes (γ·V(final obs)); step t+1 is marked invalid and left out of the loss.

Checkpoints (``out/``): ``opsrl_policy.json`` (what ``opsrl eval --policy out`` reads), ``agent.pt``
(weights and normaliser statistics), ``train_state.pt`` (everything needed to continue the run exactly —
optimiser, normalisers, the envs' state and random generators, torch's RNG) and ``progress.csv``. Running
the same command again resumes from ``train_state.pt``; all files load with ``weights_only=True``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from opsrl.algos.checkpoint import append_progress, load_train_state, save_train_state
from opsrl.core.env import BatchedVectorEnv, load_object
from opsrl.policies.base import CHECKPOINT_FILE, Policy
from opsrl.policies.mlp import make_mlp_agent


@dataclasses.dataclass
class PPOConfig:
    num_envs: int = 64
    """Parallel environments of the vector env (one numba call steps them all)."""
    num_steps: int = 128
    """Steps per env per rollout; a rollout holds ``num_envs · num_steps`` transitions."""
    total_timesteps: int = 2_000_000
    """Stop after this many env steps (or when ``budget_seconds`` runs out, whichever is first)."""
    learning_rate: float = 3e-4
    anneal_lr: bool = False
    """Linearly anneal the learning rate to 0 over ``total_timesteps``."""
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    norm_adv: bool = True
    """Normalise advantages per minibatch."""
    clip_coef: float = 0.2
    clip_vloss: bool = True
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float | None = None
    """Stop the update epochs early when the approximate KL exceeds this."""
    normalize_obs: bool = True
    """Running mean/std normalisation of flat observations (clipped at ±10)."""
    normalize_reward: bool = True
    """Scale rewards by the running std of the discounted return (costs of operations problems span
    orders of magnitude)."""
    normalize_value: bool = True
    """Learn the value of normalised returns (running mean/std of the value targets)."""
    policy: str = "mlp"
    """``mlp`` or ``module:factory`` inside ``opsrl`` — ``factory(observation_space, action_space, **kw)``."""
    hidden: tuple[int, ...] = (64, 64)
    box_squash: str = "tanh"
    """How the ``mlp`` policy maps its Gaussian into a bounded ``Box``: ``tanh`` or ``clip`` (see
    :mod:`opsrl.policies.mlp`)."""
    obs_mode: str = "flat"
    checkpoint_every: int = 10
    """Save ``train_state.pt`` every this many updates (and at the end)."""
    eval_episodes: int = 100
    """Episodes of the final evaluation (0 skips it)."""
    torch_threads: int = 1
    """Torch threads: small networks are fastest on one, and the env kernels use the other core."""
    mix_presets: tuple[str, ...] = ()
    """Further presets of the same env whose vector envs take turns with ``preset``'s, one rollout each
    (round robin): one run over several instance sizes for a size-agnostic policy (the graph policies).
    Their observation spaces must agree unless ``obs_mode="graph"``."""
    init_from: str = ""
    """A PPO-family checkpoint directory whose agent weights (and flat-observation normaliser) start the run:
    fine-tuning, e.g. a curriculum over instance sizes with a size-agnostic GNN. The return and value
    normalisers and the optimiser start fresh; a run resuming its own ``train_state.pt`` ignores it."""


class RunningMeanStd:
    """Running mean and variance (parallel algorithm of Chan et al.)."""

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.mean, self.var, self.count = np.zeros(shape), np.ones(shape), 1e-4

    def update(self, x: np.ndarray) -> None:
        if x.shape[0] == 0:  # e.g. a step where every env was resetting
            return
        mean, var, n = x.mean(0), x.var(0), x.shape[0]
        delta, total = mean - self.mean, self.count + n
        self.mean = self.mean + delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def state(self) -> dict[str, Any]:
        return {"mean": torch.as_tensor(self.mean), "var": torch.as_tensor(self.var), "count": float(self.count)}

    def load(self, d: dict[str, Any]) -> None:
        self.mean, self.var, self.count = d["mean"].numpy(), d["var"].numpy(), float(d["count"])


def make_agent(config: PPOConfig, observation_space, action_space) -> nn.Module:
    if config.policy == "mlp":
        return make_mlp_agent(observation_space, action_space, hidden=tuple(config.hidden),
                              box_squash=config.box_squash)
    if not config.policy.startswith("opsrl."):
        raise ValueError(f"policy={config.policy!r} is invalid: 'mlp' or an opsrl 'module:factory'")
    return load_object(config.policy)(observation_space, action_space, hidden=tuple(config.hidden))


def to_torch(obs: Any) -> Any:
    if isinstance(obs, dict):
        return {k: torch.as_tensor(v) for k, v in obs.items()}
    return torch.as_tensor(obs, dtype=torch.float32)


# what a rollout stream is made of: the vector env and its per-env running state
ENV_SET_FIELDS = ("envs", "obs", "info", "pending_reset", "discounted", "ep_return")


class PPO:
    """One training run: the vector env, the agent, the optimiser and the normalisers."""

    algo = "ppo"
    # The rollout streams of mix_presets: a list set per run by __init__; an empty tuple for subclasses that build
    # their envs otherwise (MAPPO), so no list is shared between instances.
    env_sets: list[dict[str, Any]] | tuple[()] = ()

    def __init__(self, env_id: str, preset: str | None, overrides: dict[str, Any], config: PPOConfig, seed: int,
                 out: str) -> None:
        self.env_id, self.preset, self.overrides = env_id, preset, dict(overrides)
        self.config, self.seed, self.out = config, seed, out
        torch.set_num_threads(config.torch_threads)
        torch.manual_seed(seed)
        from opsrl.registration import entry

        self.envs = BatchedVectorEnv(entry(env_id).problem, num_envs=config.num_envs, preset=preset,
                                     obs_mode=config.obs_mode, **overrides)
        self.flat = not isinstance(self.envs.single_observation_space, __import__("gymnasium").spaces.Dict)
        self.agent = make_agent(config, self.envs.single_observation_space, self.envs.single_action_space)
        self.optimizer = torch.optim.Adam(self.agent.parameters(), lr=config.learning_rate, eps=1e-5)
        self.obs_rms = RunningMeanStd(self.envs.single_observation_space.shape if self.flat else ())
        self.ret_rms, self.value_rms = RunningMeanStd(), RunningMeanStd()
        self.discounted = np.zeros(config.num_envs)
        self.ep_return = np.zeros(config.num_envs)
        self.update_idx, self.global_step, self.elapsed = 0, 0, 0.0
        self.obs, self.info = self.envs.reset(seed=seed)
        self.pending_reset = np.zeros(config.num_envs, dtype=bool)
        self.recent_returns: list[float] = []
        self.env_sets: list[dict[str, Any]] = []  # with mix_presets: every preset's vector env and its stream
        self.env_set = 0
        if config.mix_presets:
            self.env_sets.append({f: getattr(self, f) for f in ENV_SET_FIELDS})
            for k, other in enumerate(config.mix_presets, start=1):
                envs = BatchedVectorEnv(entry(env_id).problem, num_envs=config.num_envs, preset=other,
                                        obs_mode=config.obs_mode, **overrides)
                if self.flat and envs.single_observation_space != self.envs.single_observation_space:
                    raise ValueError(f"mix_presets: {other!r} has another observation space than {preset!r}; "
                                     "mixing sizes needs obs_mode='graph'")
                obs, info = envs.reset(seed=seed + 1000 * k)
                zeros = np.zeros(config.num_envs)
                self.env_sets.append({"envs": envs, "obs": obs, "info": info, "pending_reset": zeros > 0,
                                      "discounted": zeros, "ep_return": zeros.copy()})

    def use_env_set(self, k: int) -> None:
        """Make ``mix_presets`` set ``k`` (0: ``preset``) the one that rollouts and checkpoints act on."""
        self.env_sets[self.env_set].update({f: getattr(self, f) for f in ENV_SET_FIELDS})
        for f in ENV_SET_FIELDS:
            setattr(self, f, self.env_sets[k][f])
        self.env_set = k

    # -- observations and masks -----------------------------------------------------------------------------
    def normalize(self, obs: Any, update: bool = False) -> Any:
        if not (self.flat and self.config.normalize_obs):
            return obs
        if update:
            self.obs_rms.update(obs)
        return np.clip((obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + 1e-8), -10, 10).astype(np.float32)

    def mask_of(self, info: dict[str, Any]) -> torch.Tensor | None:
        mask = info.get("action_mask")
        return None if mask is None else torch.as_tensor(np.asarray(mask).reshape(len(mask), -1))

    # -- 1. rollout ---------------------------------------------------------------------------------------
    def collect(self) -> dict[str, Any]:
        """``num_steps`` steps of every env with the current policy; returns the rollout buffer."""
        cfg, envs = self.config, self.envs
        T, N = cfg.num_steps, cfg.num_envs
        buf: dict[str, Any] = {"obs": [], "actions": [], "logprobs": [], "values": [], "masks": [],
                               "rewards": np.zeros((T, N)), "terminated": np.zeros((T, N)),
                               "done": np.zeros((T, N)), "valid": np.zeros((T, N))}
        for t in range(T):
            obs = self.normalize(self.obs, update=True)
            mask = self.mask_of(self.info)
            with torch.no_grad():
                dist, value = self.agent(to_torch(obs), mask)
                action = dist.sample()
            buf["obs"].append(obs)
            buf["masks"].append(mask)
            buf["actions"].append(action)
            buf["logprobs"].append(dist.log_prob(action))
            buf["values"].append(value)
            buf["valid"][t] = ~self.pending_reset
            self.on_step(buf, t)
            self.obs, reward, terminated, truncated, self.info = envs.step(self.agent.head.to_env(action.numpy()))
            done = terminated | truncated
            valid = ~self.pending_reset
            buf["rewards"][t] = self.scale_reward(reward, done, valid)
            buf["terminated"][t], buf["done"][t] = terminated, done
            self.ep_return += np.where(valid, reward, 0.0)
            self.recent_returns += self.ep_return[done & valid].tolist()
            self.ep_return[done] = 0.0
            self.pending_reset = done
            self.global_step += int(valid.sum())
        buf["next_obs"] = self.normalize(self.obs)
        return buf

    def on_step(self, buf: dict[str, Any], t: int) -> None:
        """Hook for subclasses that record more per step (e.g. post-decision observations)."""

    def scale_reward(self, reward: np.ndarray, done: np.ndarray, valid: np.ndarray) -> np.ndarray:
        if not self.config.normalize_reward:
            return reward
        self.discounted = np.where(valid, self.discounted * self.config.gamma + reward, self.discounted)
        self.ret_rms.update(self.discounted[valid])
        self.discounted[done] = 0.0
        return reward / np.sqrt(self.ret_rms.var + 1e-8)

    # -- 2. advantages --------------------------------------------------------------------------------------
    def denormalize_value(self, v: torch.Tensor) -> torch.Tensor:
        if not self.config.normalize_value:
            return v
        return v * float(np.sqrt(self.value_rms.var + 1e-8)) + float(self.value_rms.mean)

    def advantages(self, buf: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """GAE(λ); bootstraps from the next observation unless the episode terminated."""
        cfg = self.config
        values = self.denormalize_value(torch.stack(buf["values"])).numpy()
        with torch.no_grad():
            next_value = self.denormalize_value(self.agent.value(to_torch(buf["next_obs"]))).numpy()
        T = cfg.num_steps
        adv = np.zeros_like(buf["rewards"])
        last = np.zeros(cfg.num_envs)
        for t in reversed(range(T)):
            nxt = next_value if t == T - 1 else values[t + 1]
            delta = buf["rewards"][t] + cfg.gamma * nxt * (1.0 - buf["terminated"][t]) - values[t]
            last = delta + cfg.gamma * cfg.gae_lambda * (1.0 - buf["done"][t]) * last
            adv[t] = last
        returns = adv + values
        return torch.as_tensor(adv, dtype=torch.float32), torch.as_tensor(returns, dtype=torch.float32)

    # -- 3. loss and update ---------------------------------------------------------------------------------
    def loss(self, mb: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        cfg = self.config
        dist, value = self.agent(mb["obs"], mb["masks"])
        logratio = dist.log_prob(mb["actions"]) - mb["logprobs"]
        ratio = logratio.exp()
        adv = mb["advantages"]
        if cfg.norm_adv and adv.numel() > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean()
        target = mb["value_targets"]
        if cfg.clip_vloss:
            clipped = mb["values"] + (value - mb["values"]).clamp(-cfg.clip_coef, cfg.clip_coef)
            v_loss = 0.5 * torch.max((value - target) ** 2, (clipped - target) ** 2).mean()
        else:
            v_loss = 0.5 * ((value - target) ** 2).mean()
        entropy = dist.entropy().mean()
        with torch.no_grad():
            approx_kl = ((ratio - 1) - logratio).mean().item()
            clipfrac = ((ratio - 1.0).abs() > cfg.clip_coef).float().mean().item()
        loss = pg_loss - cfg.ent_coef * entropy + cfg.vf_coef * v_loss
        return loss, {"pg_loss": pg_loss.item(), "v_loss": v_loss.item(), "entropy": entropy.item(),
                      "approx_kl": approx_kl, "clipfrac": clipfrac}

    def flatten(self, buf: dict[str, Any], advantages: torch.Tensor, returns: torch.Tensor) -> dict[str, Any]:
        """Valid transitions of the rollout as flat tensors."""
        valid = torch.as_tensor(buf["valid"].reshape(-1) > 0)
        if self.config.normalize_value:
            self.value_rms.update(returns.numpy().reshape(-1)[valid.numpy()])
            returns = (returns - float(self.value_rms.mean)) / float(np.sqrt(self.value_rms.var + 1e-8))
        if self.flat:
            obs: Any = torch.as_tensor(np.stack(buf["obs"]), dtype=torch.float32).flatten(0, 1)[valid]
        else:
            obs = {k: torch.as_tensor(np.stack([o[k] for o in buf["obs"]])).flatten(0, 1)[valid]
                   for k in buf["obs"][0]}
        masks = None if buf["masks"][0] is None else torch.stack(buf["masks"]).flatten(0, 1)[valid]
        return {"obs": obs, "masks": masks,
                "actions": torch.stack(buf["actions"]).flatten(0, 1)[valid],
                "logprobs": torch.stack(buf["logprobs"]).flatten(0, 1)[valid],
                "values": torch.stack(buf["values"]).flatten(0, 1)[valid],
                "advantages": advantages.flatten(0, 1)[valid], "value_targets": returns.flatten(0, 1)[valid]}

    def update(self, batch: dict[str, Any]) -> dict[str, float]:
        cfg = self.config
        n = batch["actions"].shape[0]
        mb_size = max(1, n // cfg.num_minibatches)
        stats: dict[str, float] = {}
        for _ in range(cfg.update_epochs):
            perm = torch.randperm(n)
            for start in range(0, n, mb_size):
                idx = perm[start:start + mb_size]
                mb = {k: (None if v is None else {kk: vv[idx] for kk, vv in v.items()} if isinstance(v, dict)
                          else v[idx]) for k, v in batch.items()}
                loss, stats = self.loss(mb)
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.agent.parameters(), cfg.max_grad_norm)
                self.optimizer.step()
            if cfg.target_kl is not None and stats.get("approx_kl", 0.0) > cfg.target_kl:
                break
        return stats

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self, budget_seconds: float) -> dict[str, Any]:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        cfg = self.config
        os.makedirs(self.out, exist_ok=True)
        start = time.perf_counter() - self.elapsed
        with Progress(TextColumn(f"{self.algo} {self.env_id}"), BarColumn(), TextColumn("{task.description}"),
                      TimeElapsedColumn(), transient=True, disable=not _interactive()) as bar:
            task = bar.add_task("", total=cfg.total_timesteps, completed=self.global_step)
            while self.global_step < cfg.total_timesteps and time.perf_counter() - start < budget_seconds:
                if cfg.anneal_lr:
                    frac = 1.0 - self.global_step / cfg.total_timesteps
                    self.optimizer.param_groups[0]["lr"] = frac * cfg.learning_rate
                if self.env_sets:
                    self.use_env_set(self.update_idx % len(self.env_sets))
                buf = self.collect()
                adv, ret = self.advantages(buf)
                stats = self.update(self.flatten(buf, adv, ret))
                self.update_idx += 1
                self.elapsed = time.perf_counter() - start
                self.log(stats)
                bar.update(task, completed=self.global_step, description=self.progress_text())
                if self.update_idx % cfg.checkpoint_every == 0:
                    self.save()
        self.elapsed = time.perf_counter() - start
        self.save()
        return self.summary()

    def progress_text(self) -> str:
        ret = np.mean(self.recent_returns[-20:]) if self.recent_returns else float("nan")
        return f"step {self.global_step:,} return {ret:.1f}"

    def log(self, stats: dict[str, float]) -> None:
        append_progress(self.out, {
            "update": self.update_idx, "global_step": self.global_step, "seconds": round(self.elapsed, 3),
            "episode_return": float(np.mean(self.recent_returns[-20:])) if self.recent_returns else "",
            **{k: round(v, 6) for k, v in stats.items()}})

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"updates": self.update_idx, "global_step": self.global_step,
                               "seconds": round(self.elapsed, 2)}
        if self.config.eval_episodes:
            from opsrl.eval import evaluate

            res = evaluate(self.out, self.env_id, self.preset, episodes=self.config.eval_episodes, seed=0,
                           overrides=self.overrides, obs_mode=self.config.obs_mode)
            out["eval"] = res.to_dict()
        return out

    # -- checkpoints ----------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return {"loader": "opsrl.algos.ppo:load_policy", "algo": self.algo, "env_id": self.env_id,
                "preset": self.preset, "overrides": self.overrides, "seed": self.seed,
                "config": dataclasses.asdict(self.config)}

    def learner_state(self, n_returns: int = 100) -> dict[str, Any]:
        """The learner's part of ``train_state.pt`` (subclasses add their envs' state); writes ``agent.pt``."""
        os.makedirs(self.out, exist_ok=True)
        torch.save({"agent": self.agent.state_dict(), "obs_rms": self.obs_rms.state()},
                   os.path.join(self.out, "agent.pt"))
        return {"agent": self.agent.state_dict(), "optimizer": self.optimizer.state_dict(),
                "obs_rms": self.obs_rms.state(), "ret_rms": self.ret_rms.state(), "value_rms": self.value_rms.state(),
                "torch_rng": torch.get_rng_state(), "update_idx": self.update_idx, "global_step": self.global_step,
                "elapsed": self.elapsed,
                "recent_returns": torch.as_tensor(self.recent_returns[-n_returns:], dtype=torch.float64)}

    def write_checkpoint(self, state: dict[str, Any]) -> None:
        save_train_state(self.out, state)
        with open(os.path.join(self.out, CHECKPOINT_FILE), "w") as fh:
            json.dump(self.manifest(), fh, indent=2)

    def load_learner_state(self, s: dict[str, Any]) -> None:
        self.agent.load_state_dict(s["agent"])
        self.optimizer.load_state_dict(s["optimizer"])
        for rms, key in ((self.obs_rms, "obs_rms"), (self.ret_rms, "ret_rms"), (self.value_rms, "value_rms")):
            rms.load(s[key])
        torch.set_rng_state(s["torch_rng"])
        self.update_idx, self.global_step, self.elapsed = s["update_idx"], s["global_step"], s["elapsed"]
        self.recent_returns = s["recent_returns"].tolist()

    def env_set_state(self) -> dict[str, Any]:
        """The current rollout stream as tensors: its envs' state and random generator, and what the loop
        carries between steps."""
        env_state = {f: torch.as_tensor(np.asarray(v)) for f, v in zip(self.envs.state._fields, self.envs.state,
                                                                         strict=True)}
        obs = {k: torch.as_tensor(v) for k, v in self.obs.items()} if isinstance(self.obs, dict) \
            else torch.as_tensor(self.obs)
        info = {"action_mask": torch.as_tensor(self.info["action_mask"])} if "action_mask" in self.info else {}
        return {"discounted": torch.as_tensor(self.discounted), "ep_return": torch.as_tensor(self.ep_return),
                "pending_reset": torch.as_tensor(self.pending_reset),
                "autoreset": torch.as_tensor(self.envs._autoreset),
                "env_state": env_state, "env_rng": json.dumps(self.envs.np_random.bit_generator.state),
                "obs": obs, "info": info}

    def load_env_set_state(self, s: dict[str, Any]) -> None:
        self.discounted, self.ep_return = s["discounted"].numpy(), s["ep_return"].numpy()
        self.pending_reset = s["pending_reset"].numpy()
        self.envs._autoreset = s["autoreset"].numpy()
        self.envs.state = type(self.envs.state)(*(s["env_state"][f].numpy() for f in self.envs.state._fields))
        self.envs.np_random.bit_generator.state = json.loads(s["env_rng"])
        self.obs = {k: v.numpy() for k, v in s["obs"].items()} if isinstance(s["obs"], dict) else s["obs"].numpy()
        self.info = {k: v.numpy() for k, v in s["info"].items()}

    def save(self) -> None:
        state = self.learner_state()
        if not self.env_sets:
            state.update(self.env_set_state())
        else:  # every stream, then back to the current one
            current, streams = self.env_set, []
            for k in range(len(self.env_sets)):
                self.use_env_set(k)
                streams.append(self.env_set_state())
            self.use_env_set(current)
            state.update(mixed_streams=streams, current_stream=current)
        self.write_checkpoint(state)

    def start(self) -> None:
        """Resume the run in ``out`` if it has a checkpoint, else warm-start from ``init_from`` if given."""
        if not self.try_resume() and self.config.init_from:
            self.warm_start(self.config.init_from)

    def warm_start(self, path: str) -> None:
        """Start from the agent of the checkpoint in ``path`` (``init_from``); its network must match."""
        file = os.path.join(path, "agent.pt")
        if not os.path.isfile(file):
            raise FileNotFoundError(f"init_from={path!r}: no agent.pt there (a PPO-family checkpoint directory)")
        state = torch.load(file, weights_only=True)
        try:
            self.agent.load_state_dict(state["agent"])
        except RuntimeError as err:
            raise ValueError(f"init_from={path!r}: its network does not match this run's policy/hidden "
                             f"options ({err})") from None
        if "obs_rms" in state and self.flat:
            self.obs_rms.load(state["obs_rms"])

    def try_resume(self) -> bool:
        s = load_train_state(self.out)
        if s is None:
            return False
        self.load_learner_state(s)
        if self.env_sets:
            if len(s.get("mixed_streams", [])) != len(self.env_sets):
                raise ValueError(f"{self.out}: the checkpoint was not written with these mix_presets")
            for k, stream in enumerate(s["mixed_streams"]):
                self.use_env_set(k)
                self.load_env_set_state(stream)
            self.use_env_set(int(s["current_stream"]))
        else:
            self.load_env_set_state(s)
        return True


def _interactive() -> bool:
    import sys

    return sys.stderr.isatty()


def config_from(options: dict[str, Any], cls: type = PPOConfig) -> Any:
    """A config from ``--option key=value`` pairs (unknown keys are an error naming the valid ones)."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {cls.__name__}; valid: {', '.join(sorted(names))}")
    if "hidden" in options:
        options = {**options, "hidden": tuple(int(h) for h in options["hidden"])}
    if isinstance(options.get("mix_presets"), str):  # --option mix_presets=a,b
        options = {**options, "mix_presets": tuple(p for p in options["mix_presets"].split(",") if p)}
    elif "mix_presets" in options:
        options = {**options, "mix_presets": tuple(options["mix_presets"])}
    return cls(**options)


def train(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int, budget_seconds: float, out: str,
          **options: Any) -> dict[str, Any]:
    """``opsrl train ppo``: train (or resume) and return a summary with the final evaluation."""
    run = PPO(env_id, preset, overrides, config_from(options), seed, out)
    run.start()
    return run.run(budget_seconds)


class PPOPolicy(Policy):
    """A trained agent acting on observation batches: greedily (the distribution's mode, the default) or, with
    ``deterministic=False``, by sampling its actions from torch's global generator (seed it with
    ``torch.manual_seed`` for reproducible evaluations) — the stochastic policy PPO actually optimises, which
    can be much better than its mode when the action factorises over dimensions (e.g. one categorical per
    machine in lot sizing)."""

    name = "ppo"

    def __init__(self, problem, agent: nn.Module, obs_rms: RunningMeanStd | None, deterministic: bool = True) -> None:
        super().__init__(problem)
        self.agent, self.obs_rms, self.deterministic = agent.eval(), obs_rms, deterministic

    def act(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        if self.obs_rms is not None and not isinstance(obs, dict):
            obs = np.clip((obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + 1e-8), -10, 10).astype(np.float32)
        mask = info.get("action_mask")
        mask = None if mask is None else torch.as_tensor(np.asarray(mask).reshape(len(mask), -1))
        with torch.no_grad():
            dist, _ = self.agent(to_torch(obs), mask)
            action = dist.mode() if self.deterministic else dist.sample()
            return self.agent.head.to_env(action.numpy())


def load_policy(path: str, problem) -> PPOPolicy:
    """Load ``agent.pt`` of a PPO-family checkpoint for ``problem`` (weights only)."""
    with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    config = PPOConfig(**{k: (tuple(v) if k in ("hidden", "mix_presets") else v) for k, v in meta["config"].items()
                          if k in {f.name for f in dataclasses.fields(PPOConfig)}})
    agent = make_agent(config, problem.observation_space, problem.action_space)
    state = torch.load(os.path.join(path, "agent.pt"), weights_only=True)
    agent.load_state_dict(state["agent"])
    rms = None
    if config.normalize_obs and config.obs_mode == "flat":
        rms = RunningMeanStd()
        rms.load(state["obs_rms"])
    return PPOPolicy(problem, agent, rms)
