"""Post-Decision PPO (PDPPO, Felizardo et al., arXiv:2504.05150) on the shared PPO core (``opsrl train pdppo``).

For envs whose step is deterministic-then-stochastic (``info["post_decision_obs"]`` and
``info["post_decision_reward"]``, e.g. ``opsrl/LotSizing-v0``), PDPPO keeps two critics:

* V(s) on the pre-decision observation, trained on returns of r^s = r − r^x (the stochastic part: lost
  sales + holding in lot sizing);
* V^x(s^x) on the post-decision observation, trained on returns of r^x (the deterministic part: −setup
  cost, known once the action is chosen).

Advantages per stream are GAE(λ) with each stream's critic (λ = 1, the default here, gives the Monte-Carlo
returns of the paper: A^pre = R^s − V(s), A^post = R^x − V^x(s^x)); the actor uses
``advantage_combine``: ``max`` (the paper's rule, element-wise max(A^pre, A^post)), ``sum`` (A^pre + A^post,
an estimate of the advantage of the total return) or ``pre_only``. Everything else — rollouts, masks,
clipping, entropy, observation/reward/value normalisation, checkpoints, resume — is :mod:`opsrl.algos.ppo`.

Differences from the reference code, on purpose (spec ``lot_sizing.md`` §6.1, §7): every actor layer is
trained (the reference never optimises the hidden actor layers); the configured γ is used; the critics'
losses are not detached no-ops. The post-decision critic is a submodule of the agent, so it shares the
core's Adam optimiser; Adam is per-parameter, so this equals a separate optimiser with the same learning
rate except that gradient-norm clipping is joint.

On the max rule (measured on ``tiny``, 400k steps, 2 seeds, 4,000 evaluation episodes; DP optimum 81.45):
``max`` ends +7.4% / +8.1% above the optimum, ``sum`` +1.1% / +1.0%. The max policies make as many setups
as the optimum (12.7–13.0 per episode vs 12.7) but lose far more sales (39.7–42.6 vs 25.0) and hold less
(32.8–34.8 vs 44.2). Cause: the post stream carries only the setup cost, which the chosen setups nearly
determine, so the trained V^x(s^x) predicts it well and A^post ≈ 0 (std 0.03 vs 0.3–0.4 for A^pre in the same
scaled-reward units). Then max(A^pre, A^post) ≈ max(A^pre, 0): the ~45% of samples with a negative A^pre —
the stock-outs after lean decisions — lose their penalty, and the policy drifts to low stock. The two
streams share one reward scale (tested), so this is a property of the published rule (spec §7.9), not of
the scaling here; ``sum`` is the unbiased combination.

Graph agents (``obs_mode="graph"``, e.g. :mod:`opsrl.policies.lot_sizing_gnn`) bring their own post-decision
head: when the agent has ``post_value(post_obs)``, it is V^x on the env's graph post-decision observation (a
dict, stored per key and not normalised); otherwise an MLP ``post_critic`` on the flat one is added.

Rollouts are cut every ``num_steps``; at a cut the pre stream bootstraps with V(next obs) and the post
stream with 0, so choose ``num_steps`` as a multiple of the episode length + 1 (one autoreset step per
episode) to keep whole episodes in each rollout (the default for the lot-sizing presets does).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np
import torch

from opsrl.algos.ppo import PPO, PPOConfig, PPOPolicy, RunningMeanStd, config_from, make_agent, to_torch
from opsrl.policies.base import CHECKPOINT_FILE
from opsrl.policies.mlp import mlp

COMBINE = ("max", "sum", "pre_only")


@dataclasses.dataclass
class PDPPOConfig(PPOConfig):
    gae_lambda: float = 1.0
    """λ of each stream's GAE; 1 = Monte-Carlo returns, as in the paper."""
    advantage_combine: str = "max"
    """``max`` (paper), ``sum`` or ``pre_only`` (ablations)."""
    post_vf_coef: float = 0.5
    """Weight of the post-decision critic's loss."""


class PDPPO(PPO):
    algo = "pdppo"

    def __init__(self, env_id: str, preset: str | None, overrides: dict[str, Any], config: PDPPOConfig, seed: int,
                 out: str) -> None:
        if config.advantage_combine not in COMBINE:
            raise ValueError(f"advantage_combine={config.advantage_combine!r} is invalid: must be one of {COMBINE}")
        super().__init__(env_id, preset, overrides, config, seed, out)
        if "post_decision_obs" not in self.envs.step(np.zeros((config.num_envs, *self.envs.single_action_space.shape),
                                                               dtype=self.envs.single_action_space.dtype))[4]:
            raise ValueError(f"{env_id} gives no info['post_decision_obs']: PDPPO needs a post-decision state")
        self.obs, self.info = self.envs.reset(seed=seed)  # undo the probe step
        # graph agents bring their own post-decision head (``agent.post_value``, on the graph post-decision obs)
        if not hasattr(self.agent, "post_value"):
            n_obs = int(np.prod(self.envs.single_observation_space.shape))
            self.agent.post_critic = mlp(n_obs, tuple(config.hidden), 1, out_std=1.0)
            self.optimizer = torch.optim.Adam(self.agent.parameters(), lr=config.learning_rate, eps=1e-5)
        self.post_rms = RunningMeanStd(self.envs.single_observation_space.shape if self.flat else ())
        self.post_value_rms = RunningMeanStd()

    # -- rollout hooks: record r^x and s^x of every step ---------------------------------------------------
    def on_step(self, buf: dict[str, Any], t: int) -> None:
        if t == 0:
            T, N = self.config.num_steps, self.config.num_envs
            buf["rewards_x"] = np.zeros((T, N))
            space = self.envs.single_observation_space
            buf["post_obs"] = np.zeros((T, N, *space.shape), dtype=np.float32) if self.flat else \
                {k: np.zeros((T, N, *s.shape), dtype=s.dtype) for k, s in space.spaces.items()}
        self._buf, self._t = buf, t

    def scale_reward(self, reward: np.ndarray, done: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Called by the core right after the env step (``self.info`` is that step's info): store the
        deterministic reward r^x with the same scale as the total reward, and the post-decision obs."""
        scaled = super().scale_reward(reward, done, valid)
        factor = 1.0 / np.sqrt(self.ret_rms.var + 1e-8) if self.config.normalize_reward else 1.0
        r_x = np.where(valid, np.asarray(self.info["post_decision_reward"], dtype=np.float64), 0.0)
        self._buf["rewards_x"][self._t] = r_x * factor
        if not self.flat:  # graph views are scaled by the env; the core normalises flat observations only
            for k, v in self.info["post_decision_obs"].items():
                self._buf["post_obs"][k][self._t] = v
            return scaled
        post = np.asarray(self.info["post_decision_obs"], dtype=np.float64)
        if self.config.normalize_obs:
            self.post_rms.update(post[valid])
            post = np.clip((post - self.post_rms.mean) / np.sqrt(self.post_rms.var + 1e-8), -10, 10)
        self._buf["post_obs"][self._t] = post
        return scaled

    # -- advantages of the two streams ---------------------------------------------------------------------
    def post_value(self, post_obs: Any) -> torch.Tensor:
        if hasattr(self.agent, "post_value"):
            return self.agent.post_value(post_obs)
        return self.agent.post_critic(post_obs.flatten(1)).squeeze(-1)

    def _flat_post(self, post_obs: Any) -> Any:
        """[T, N, ...] post-decision observations (array or dict of arrays) as [T·N, ...] tensors."""
        if isinstance(post_obs, dict):
            return {k: torch.as_tensor(v).flatten(0, 1) for k, v in post_obs.items()}
        return torch.as_tensor(post_obs).flatten(0, 1)

    def denormalize_post(self, v: torch.Tensor) -> torch.Tensor:
        if not self.config.normalize_value:
            return v
        return v * float(np.sqrt(self.post_value_rms.var + 1e-8)) + float(self.post_value_rms.mean)

    def _gae(self, rewards, values, next_value, buf) -> np.ndarray:
        cfg = self.config
        adv = np.zeros_like(rewards)
        last = np.zeros(cfg.num_envs)
        for t in reversed(range(cfg.num_steps)):
            nxt = next_value if t == cfg.num_steps - 1 else values[t + 1]
            delta = rewards[t] + cfg.gamma * nxt * (1.0 - buf["terminated"][t]) - values[t]
            last = delta + cfg.gamma * cfg.gae_lambda * (1.0 - buf["done"][t]) * last
            adv[t] = last
        return adv

    def advantages(self, buf: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        r_x = buf["rewards_x"]
        r_s = buf["rewards"] - r_x
        v_s = self.denormalize_value(torch.stack(buf["values"])).numpy()
        with torch.no_grad():
            next_v = self.denormalize_value(self.agent.value(to_torch(buf["next_obs"]))).numpy()
            v_x = self.denormalize_post(self.post_value(self._flat_post(buf["post_obs"])))
            v_x = v_x.numpy().reshape(cfg.num_steps, cfg.num_envs)
        adv_pre = self._gae(r_s, v_s, next_v, buf)
        adv_post = self._gae(r_x, v_x, np.zeros(cfg.num_envs), buf)
        self._post_returns = torch.as_tensor(adv_post + v_x, dtype=torch.float32)
        if cfg.advantage_combine == "max":
            adv = np.maximum(adv_pre, adv_post)
        elif cfg.advantage_combine == "sum":
            adv = adv_pre + adv_post
        else:
            adv = adv_pre
        return torch.as_tensor(adv, dtype=torch.float32), torch.as_tensor(adv_pre + v_s, dtype=torch.float32)

    def flatten(self, buf: dict[str, Any], advantages: torch.Tensor, returns: torch.Tensor) -> dict[str, Any]:
        batch = super().flatten(buf, advantages, returns)
        valid = torch.as_tensor(buf["valid"].reshape(-1) > 0)
        post_ret = self._post_returns.flatten(0, 1)[valid]
        if self.config.normalize_value:
            self.post_value_rms.update(post_ret.numpy())
            post_ret = (post_ret - float(self.post_value_rms.mean)) / float(np.sqrt(self.post_value_rms.var + 1e-8))
        post = self._flat_post(buf["post_obs"])
        batch["post_obs"] = {k: v[valid] for k, v in post.items()} if isinstance(post, dict) else post[valid]
        batch["post_targets"] = post_ret
        return batch

    def loss(self, mb: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        loss, stats = super().loss(mb)  # clipped surrogate on the combined advantage + V(s) on R^s + entropy
        post_loss = 0.5 * ((self.post_value(mb["post_obs"]) - mb["post_targets"]) ** 2).mean()
        stats["post_v_loss"] = post_loss.item()
        return loss + self.config.post_vf_coef * post_loss, stats

    # -- checkpoints ---------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        return {**super().manifest(), "loader": "opsrl.algos.pdppo:load_policy"}

    def save(self) -> None:
        super().save()
        torch.save({"post_rms": self.post_rms.state(), "post_value_rms": self.post_value_rms.state()},
                   os.path.join(self.out, "pdppo_state.pt"))

    def try_resume(self) -> bool:
        if not super().try_resume():
            return False
        path = os.path.join(self.out, "pdppo_state.pt")
        if os.path.exists(path):
            s = torch.load(path, weights_only=True)
            self.post_rms.load(s["post_rms"])
            self.post_value_rms.load(s["post_value_rms"])
        return True


def train(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int, budget_seconds: float, out: str,
          **options: Any) -> dict[str, Any]:
    """``opsrl train pdppo``: train (or resume) and return a summary with the final evaluation."""
    run = PDPPO(env_id, preset, overrides, config_from(options, PDPPOConfig), seed, out)
    run.start()
    return run.run(budget_seconds)


def load_policy(path: str, problem) -> PPOPolicy:
    """The actor of a PDPPO checkpoint (the critics are not needed to act)."""
    with open(os.path.join(path, CHECKPOINT_FILE)) as fh:
        meta = json.load(fh)
    names = {f.name for f in dataclasses.fields(PDPPOConfig)}
    config = PDPPOConfig(**{k: (tuple(v) if k == "hidden" else v) for k, v in meta["config"].items() if k in names})
    agent = make_agent(config, problem.observation_space, problem.action_space)
    state = torch.load(os.path.join(path, "agent.pt"), weights_only=True)
    agent.load_state_dict({k: v for k, v in state["agent"].items() if not k.startswith("post_critic.")})
    rms = None
    if config.normalize_obs and config.obs_mode == "flat":
        rms = RunningMeanStd()
        rms.load(state["obs_rms"])
    policy = PPOPolicy(problem, agent, rms)
    policy.name = "pdppo"
    return policy
