"""One-Step Policy Optimization (OSPO) and its GRPO variant for ride-sharing dispatch (``opsrl train ospo|grpo``).

Zhao & Li, "One Step is Enough", arXiv 2507.15351 (spec ``ride_sharing.md`` §6.1–6.2). A pair scorer gives every
(eligible vehicle, visible order) pair a logit; the env turns each vehicle's row into a softmax π(j|i) over the
epoch's orders and a linear assignment picks at most one order per vehicle. ``scorer="mlp"`` (default) is the
paper's 28-input MLP (:class:`~opsrl.policies.ride_scorer.PairScorer`); ``scorer="gnn"`` is
:class:`~opsrl.policies.ride_gnn.RideGNN`, message passing on the epoch's vehicle–order candidate graph (each
vehicle's and each order's ``candidate_k`` lowest-ETA partners), whose π(j|i) is the softmax over the vehicle's
candidate edges (other pairs get score −1e4, probability 0 in the env's softmax too). There is **no critic**:

* **OSPO** (``advantage="group"``): the group of epoch k is the vehicles matched at k; each matched pair's
  advantage is the z-score of its one-step reward r_ij within the group, plus λ_f·p_k (p_k = −Δ std of the
  fleet's cumulative rewards; this family's sign, spec §7.2) — :func:`opsrl.envs.ride_sharing.signals.group_advantage`.
* **GRPO** (``advantage="episode_rtg"``): the group is the whole episode; rewards are z-scored over all
  matched pairs of the episode, then each vehicle gets the discounted reward-to-go over its own assignment
  epochs, G = z + γ^{Δt} G′ (Δt in minutes) — :func:`~opsrl.envs.ride_sharing.signals.reward_to_go` —, plus λ_f·p_k.

Loss per sampled matched pair (vehicle i, order j of epoch k), averaged over a minibatch:

    −min(ρÂ, clip(ρ, 1 − ε, 1 + κε)Â) + β·KL(π_θ(·|i) ‖ π_ref(·|i)) − c_H·H(π_θ(·|i)),   ρ = π_θ(j|i) / π_b(j|i)

with the KL and the entropy over the orders of that epoch (``kl_mode="mean"``: the KL is averaged over
orders as in the reference; ``"sum"``: the true KL). π_ref is a snapshot of the best-evaluated weights,
refreshed at every improving evaluation. β = 0 until the first non-improving evaluation, then ``kl_coef``;
while β > 0 a minibatch whose KL exceeds the round's starting KL by more than ``kl_skip`` is skipped and β
doubles for the rest of the round (the reference tests the KL itself, which can stall training for good).

**Behaviour probability** π_b (``behaviour_prob``): ``"policy"`` (default) — the scorer's own softmax
probability of the matched order when the rollout was collected (the standard PPO old probability);
``"env"`` — ``info["matched_value"]``, the softmax value of the scores the env was given. Both are equal
unless exploration replaced the row (then ``"env"`` is the reference's approximation, spec §7.7).

**Exploration** (ε, ×``eps_decay`` per iteration, floor ``eps_min``): each eligible vehicle's row is, with
probability ε, replaced by i.i.d. U(0, 1) logits (that vehicle then ranks orders at random; the matching
still gives every eligible vehicle an order while orders remain). Unlike the reference's +1e8 entries this
does not degenerate into the solver's tie-break order at ε ≈ 1 (spec §7.7).

**Loop.** One iteration = ``num_envs`` episodes collected in parallel on the native vector env
(``obs_mode="dict"``), each reset with its own seed, then ``minibatches`` minibatches of
``minibatch_size`` matched pairs sampled with replacement (the buffer is on-policy and cleared after the
round), Adam, gradient clipping, an exponential learning-rate decay per iteration. Every ``eval_every``
iterations the deterministic policy (ε = 0) is evaluated on ``eval_episodes`` fixed scenarios, those of
``opsrl eval --seed eval_seed`` — report results with another seed, since these select the snapshot.
Stops after ``iterations``, or once ``min_iterations`` are done and ``patience`` evaluations in a row did
not improve, or when ``budget_seconds`` runs out.

Defaults are the reference's (lr 1e-5, ε0 = 1, …), sized for its ≥ 1000-episode runs; a quick run on
``grid_small`` wants a larger learning rate and less exploration (``learning_rate=1e-3 eps0=0.05``; see
``tests/algos/test_ospo.py``).

With the GNN a rollout runs one batched forward (PyG ``Batch``) over the envs' candidate graphs per epoch, a
context is one env's graph at one epoch, and an update round batches all its contexts once.

The fairness term λ_f·p_k is not scaled like the z-scored reward: with a small fleet each assignment moves the
std of the fleet's rewards a lot, p_k (the same for every matched pair of the epoch) dwarfs the z-scores and
learning stalls far below greedy (``envs/ride_sharing.md``); short runs on small presets want ``fairness_coef=0``.

Checkpoint directory ``out/``: ``opsrl_policy.json`` + ``scorer.pt`` (the latest weights; what
``opsrl eval --policy out`` loads through :func:`opsrl.policies.ride_scorer.load_policy` or
:func:`opsrl.policies.ride_gnn.load_policy`, as the manifest's ``loader`` says), ``best/`` (the same
for the best-evaluated weights), ``train_state.pt`` (scorer, reference snapshot, optimiser, schedule, random
generators: running the same command again resumes) and ``progress.csv``. Everything loads with
``weights_only=True``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from opsrl.algos.checkpoint import append_progress, load_train_state, save_train_state
from opsrl.algos.ppo import config_from
from opsrl.core.env import BatchedVectorEnv
from opsrl.envs.ride_sharing.signals import group_advantage, reward_to_go
from opsrl.policies.base import CHECKPOINT_FILE
from opsrl.policies.ride_scorer import PairScorer, RideScorerPolicy

ADVANTAGES = ("group", "episode_rtg")
SCORERS = ("mlp", "gnn")
KL_MODES = ("mean", "sum")
BEHAVIOUR = ("policy", "env")


@dataclasses.dataclass
class OSPOConfig:
    advantage: str = "group"
    """``group`` (OSPO: z-score within the vehicles matched at the epoch) or ``episode_rtg`` (GRPO: z-score
    over the episode, then each vehicle's discounted reward-to-go)."""
    num_envs: int = 4
    """Episodes collected in parallel per iteration (one numba call steps them all)."""
    iterations: int = 2000
    """Stop after this many iterations (update rounds)."""
    min_iterations: int = 1000
    """Early stopping on ``patience`` only after this many iterations."""
    patience: int = 10
    """Stop after this many consecutive non-improving evaluations (past ``min_iterations``)."""
    learning_rate: float = 1e-5
    lr_decay: float = 0.99
    """ExponentialLR factor per iteration."""
    max_grad_norm: float = 1.0
    minibatch_size: int = 256
    """Matched pairs per minibatch, sampled with replacement."""
    minibatches: int = 10
    """Minibatches per iteration."""
    clip_coef: float = 0.2
    """ε of the ratio clip; the interval is [1 − ε, 1 + κ·ε]."""
    clip_upper_factor: float = 1.4
    """κ: the reference's asymmetric upper clip 1 + 0.2·1.4 = 1.28."""
    ent_coef: float = 0.05
    kl_coef: float = 0.5
    """β once the KL term is switched on (at the first non-improving evaluation, or at once with
    ``kl_from_start``)."""
    kl_from_start: bool = False
    kl_skip: float = 0.01
    """While β > 0, a minibatch whose KL to the snapshot exceeds the round's starting KL by more than this is
    skipped and β doubles. (The reference compares the KL itself with 0.01; since the snapshot only moves on
    an improving evaluation, weights already 0.01 away would then skip every minibatch forever.)"""
    kl_mode: str = "mean"
    """``mean`` (the reference: KL averaged over the epoch's orders) or ``sum`` (the true KL)."""
    fairness_coef: float = 1.0
    """λ_f of the +λ_f·p_k term (both algorithms; spec §7.2)."""
    gamma: float = 0.99
    """GRPO discount per minute between a vehicle's assignments."""
    rtg_horizon: int | None = None
    """GRPO: truncate the reward-to-go at this epoch (the reference truncates at 30)."""
    behaviour_prob: str = "policy"
    """``policy`` (the scorer's probability at collection) or ``env`` (``info["matched_value"]``)."""
    eps0: float = 1.0
    eps_decay: float = 0.99
    eps_min: float = 5e-4
    scorer: str = "mlp"
    """``mlp`` (the paper's 28-input pair MLP, :mod:`opsrl.policies.ride_scorer`) or ``gnn`` (message passing on
    the vehicle–order candidate graph, :mod:`opsrl.policies.ride_gnn`)."""
    hidden: tuple[int, ...] = (128, 128)
    """MLP hidden layers."""
    gnn_hidden: int = 32
    gnn_layers: int = 2
    gnn_heads: int = 1
    candidate_k: int | None = 16
    """GNN candidate pruning: each vehicle's k lowest-ETA orders ∪ each order's k lowest-ETA vehicles (None: all)."""
    vehicle_features: int | None = None
    """Leading vehicle features the scorer reads (None: all, 8 + 5C = 23 at capacity 3 → 28 pair inputs)."""
    eval_every: int = 10
    eval_episodes: int = 10
    eval_seed: int = 1000
    final_eval_episodes: int = 20
    """Episodes of ``evaluate()`` (seed 0) on the final weights in the summary (0 skips it)."""
    checkpoint_every: int = 10
    torch_threads: int = 1


DISPATCH_METRICS = ("served", "mean_pickup_min", "return", "served_rate")


def dispatch_episodes(policy: Any, env_id: str, preset: str | None, overrides: dict[str, Any], episodes: int,
                      seed: int, batch_size: int = 64, keys: tuple[str, ...] = DISPATCH_METRICS
                      ) -> dict[str, np.ndarray]:
    """Per-episode ``info["metrics"]`` (``keys``) of a dispatch policy on the scenarios of ``opsrl eval --seed seed
    --episodes episodes`` (same chunking as :func:`opsrl.eval.evaluate`: common random numbers). ``policy`` is a
    :class:`~opsrl.policies.base.Policy`, or a callable ``policy(problem)`` making one for each chunk's env."""
    from opsrl.eval.evaluate import make_vector_env, scenario_seeds

    rows: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for n, chunk_seed in scenario_seeds(seed, episodes, batch_size):
        env = make_vector_env(env_id, n, preset, "dict", **overrides)
        pol = policy if hasattr(policy, "act") else policy(env.problem)
        obs, info = env.reset(seed=chunk_seed)
        pol.reset(env)
        for _ in range(env.problem.params.epochs):
            obs, _, _, _, info = env.step(pol.act(obs, info))
        for k in rows:
            rows[k].append(np.asarray(info["metrics"][k], dtype=np.float64))
    return {k: np.concatenate(v) for k, v in rows.items()}


def dispatch_metrics(policy: RideScorerPolicy | Any, env_id: str, preset: str | None, overrides: dict[str, Any],
                     episodes: int, seed: int, batch_size: int = 64) -> dict[str, float]:
    """Mean served orders, pickup minutes, OSPO return (undiscounted) and served rate (:func:`dispatch_episodes`)."""
    per_episode = dispatch_episodes(policy, env_id, preset, overrides, episodes, seed, batch_size)
    return {k: float(v.mean()) for k, v in per_episode.items()}


class OSPO:
    """One training run: vector env, scorer, reference snapshot, optimiser, schedule."""

    algo = "ospo"

    def __init__(self, env_id: str, preset: str | None, overrides: dict[str, Any], config: OSPOConfig, seed: int,
                 out: str) -> None:
        if config.advantage not in ADVANTAGES:
            raise ValueError(f"advantage={config.advantage!r} is invalid: one of {ADVANTAGES}")
        if config.kl_mode not in KL_MODES:
            raise ValueError(f"kl_mode={config.kl_mode!r} is invalid: one of {KL_MODES}")
        if config.scorer not in SCORERS:
            raise ValueError(f"scorer={config.scorer!r} is invalid: one of {SCORERS}")
        if config.candidate_k is not None and int(config.candidate_k) < 1:
            raise ValueError(f"candidate_k={config.candidate_k!r} is invalid: must be >= 1 or None")
        if config.behaviour_prob not in BEHAVIOUR:
            raise ValueError(f"behaviour_prob={config.behaviour_prob!r} is invalid: one of {BEHAVIOUR}")
        for name in ("num_envs", "iterations", "minibatch_size", "minibatches", "eval_every", "eval_episodes",
                     "checkpoint_every"):
            if getattr(config, name) < 1:
                raise ValueError(f"{name}={getattr(config, name)!r} is invalid: must be >= 1")
        self.env_id, self.preset, self.overrides = env_id, preset, dict(overrides)
        self.config, self.seed, self.out = config, seed, out
        torch.set_num_threads(config.torch_threads)
        torch.manual_seed(seed)
        from opsrl.registration import entry

        self.envs = BatchedVectorEnv(entry(env_id).problem, num_envs=config.num_envs, preset=preset,
                                     obs_mode="dict", **overrides)
        problem = self.envs.problem
        if getattr(problem.params, "score_transform", "softmax") != "softmax":
            raise ValueError("OSPO/GRPO train a softmax scorer: use score_transform='softmax'")
        self.problem = problem
        F = problem.F if config.vehicle_features is None else int(config.vehicle_features)
        if not 1 <= F <= problem.F:
            raise ValueError(f"vehicle_features={config.vehicle_features!r} is invalid: in [1, {problem.F}]")
        self.gnn = config.scorer == "gnn"
        if self.gnn:
            from opsrl.policies.ride_gnn import RideGNN

            self.scorer = RideGNN(F, config.gnn_hidden, config.gnn_layers, config.gnn_heads)
        else:
            self.scorer = PairScorer(F, tuple(config.hidden))
        self.ref = copy.deepcopy(self.scorer).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.scorer.parameters(), lr=config.learning_rate)
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.optimizer, gamma=config.lr_decay)
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
        self.iteration, self.elapsed = 0, 0.0
        self.kl_on = config.kl_from_start
        self.best_return, self.bad_evals = -np.inf, 0
        self.best_eval: dict[str, float] = {}

    @property
    def eps(self) -> float:
        c = self.config
        return max(c.eps_min, c.eps0 * c.eps_decay ** self.iteration)

    # -- 1. rollout -------------------------------------------------------------------------------------------
    def collect(self) -> dict[str, Any]:
        """``num_envs`` whole episodes; returns the matched pairs with their advantages and epoch contexts."""
        if self.gnn:
            return self.collect_gnn()
        cfg, envs, P = self.config, self.envs, self.problem
        B, V = cfg.num_envs, P.V
        reset_seed = int(np.random.SeedSequence([self.seed, 1, self.iteration]).generate_state(1)[0])
        obs, _ = envs.reset(seed=reset_seed)
        eps = self.eps
        veh_rows, ctx_of, slots, logp_b, rewards, env_of, epoch_of, veh_of = [], [], [], [], [], [], [], []
        contexts: list[np.ndarray] = []
        adv_parts: list[np.ndarray] = []
        for k in range(P.params.epochs):
            omask = obs["order_mask"] > 0
            vmask = obs["vehicle_mask"] > 0
            veh = torch.as_tensor(obs["vehicles"])
            scores = np.zeros((B, V, P.O), dtype=np.float32)
            logp = {}
            with torch.no_grad():
                for b in range(B):
                    m = int(omask[b].sum())
                    if m == 0 or not vmask[b].any():
                        continue
                    lg = self.scorer(veh[b], torch.as_tensor(obs["orders"][b, :m]))
                    logp[b] = torch.log_softmax(lg.double(), dim=-1).numpy()
                    s = lg.numpy()
                    explore = vmask[b] & (self.rng.random(V) < eps)
                    if explore.any():
                        s = s.copy()
                        s[explore] = self.rng.random((int(explore.sum()), m))
                    scores[b, :, :m] = s
            scores = np.clip(scores, -1e4, 1e4)
            next_obs, _, _, _, info = envs.step(scores)
            slot, group = info["assignment"], info["group_mask"]
            r, p = info["vehicle_rewards"], info["fairness_p"]
            for b in range(B):
                rows = np.flatnonzero(group[b])
                if rows.size == 0:
                    continue
                m = int(omask[b].sum())
                contexts.append(obs["orders"][b, :m].copy())
                c = len(contexts) - 1
                veh_rows.append(obs["vehicles"][b, rows, :self.scorer.vehicle_features])
                ctx_of.append(np.full(rows.size, c))
                slots.append(slot[b, rows])
                if cfg.behaviour_prob == "policy":
                    logp_b.append(logp[b][rows, slot[b, rows]])
                else:
                    logp_b.append(np.log(np.maximum(info["matched_value"][b, rows], 1e-12)))
                rewards.append(r[b, rows])
                env_of.append(np.full(rows.size, b))
                epoch_of.append(np.full(rows.size, k))
                veh_of.append(rows)
                if cfg.advantage == "group":
                    adv_parts.append(group_advantage(r[b], group[b], float(p[b]), cfg.fairness_coef)[rows])
                else:  # GRPO: the fairness term of the epoch is added after the reward-to-go
                    adv_parts.append(np.full(rows.size, cfg.fairness_coef * float(p[b])))
            obs = next_obs
        metrics = info["metrics"]
        served = {"served": float(metrics["served"].mean()), "pickup": float(metrics["mean_pickup_min"].mean()),
                  "return": float(metrics["return"].mean())}
        if not contexts:
            return {"n": 0, "train": served}
        cat = np.concatenate
        buf = {"veh": cat(veh_rows), "ctx": cat(ctx_of), "slot": cat(slots), "logp_b": cat(logp_b),
               "reward": cat(rewards), "env": cat(env_of), "epoch": cat(epoch_of), "vehicle": cat(veh_of),
               "adv": cat(adv_parts)}
        if cfg.advantage == "episode_rtg":
            buf["adv"] = buf["adv"] + self.episode_reward_to_go(buf)
        M = max(c.shape[0] for c in contexts)
        orders = np.zeros((len(contexts), M, contexts[0].shape[1]), dtype=np.float32)
        omask_c = np.zeros((len(contexts), M), dtype=bool)
        for c, o in enumerate(contexts):
            orders[c, :o.shape[0]] = o
            omask_c[c, :o.shape[0]] = True
        buf["orders"], buf["order_mask"] = orders, omask_c
        buf["n"] = buf["slot"].size
        buf["train"] = served
        return buf

    def collect_gnn(self) -> dict[str, Any]:
        """:meth:`collect` with the GNN scorer: one batched forward over the B envs' candidate graphs per epoch;
        a context is one env's graph at one epoch, a transition a matched pair (vehicle node, edge). Exploration
        draws U(0, 1) logits on the vehicle's candidate edges. A vehicle matched to a pair outside its
        candidate edges (possible only when the matching must fill it with a leftover order) has no policy
        probability and is left out of the update."""
        from opsrl.policies.ride_gnn import graph_scores, scores_matrix, segment_log_softmax

        cfg, envs, P = self.config, self.envs, self.problem
        B, V = cfg.num_envs, P.V
        reset_seed = int(np.random.SeedSequence([self.seed, 1, self.iteration]).generate_state(1)[0])
        obs, _ = envs.reset(seed=reset_seed)
        eps = self.eps
        contexts: list[dict[str, np.ndarray]] = []
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("ctx", "vloc", "edge", "logp_b", "reward", "env",
                                                            "epoch", "vehicle", "adv")}
        dropped = 0
        for k in range(P.params.epochs):
            scores = np.zeros((B, V, P.O), dtype=np.float32)
            out = graph_scores(P, envs.state, obs, [self.scorer], cfg.candidate_k, range(B))
            logp = {}
            for b, (g, (lg,)) in out.items():
                n_v = g["rows"].size
                logp[b] = segment_log_softmax(torch.as_tensor(lg, dtype=torch.float64), torch.as_tensor(g["src"]),
                                              n_v).numpy()
                explore = self.rng.random(n_v) < eps
                if explore.any():
                    on = explore[g["src"]]
                    lg = lg.copy()
                    lg[on] = self.rng.random(int(on.sum()))
                scores[b, :, :g["order_x"].shape[0]] = scores_matrix(P, g, lg)
            next_obs, _, _, _, info = envs.step(scores)
            slot, group = info["assignment"], info["group_mask"]
            r, p = info["vehicle_rewards"], info["fairness_p"]
            for b, (g, _) in out.items():
                rows = np.flatnonzero(group[b])
                if rows.size == 0:
                    continue
                m = g["order_x"].shape[0]
                vloc = np.searchsorted(g["rows"], rows)  # rows of a graph = eligible vehicles, sorted
                keys = g["src"] * m + g["dst"]  # row-major edges: sorted keys
                want = vloc * m + slot[b, rows]
                pos = np.minimum(np.searchsorted(keys, want), keys.size - 1)
                ok = keys[pos] == want
                dropped += int((~ok).sum())
                if cfg.advantage == "group":
                    adv = group_advantage(r[b], group[b], float(p[b]), cfg.fairness_coef)[rows]
                else:  # GRPO: the fairness term of the epoch is added after the reward-to-go
                    adv = np.full(rows.size, cfg.fairness_coef * float(p[b]))
                if not ok.any():
                    continue
                contexts.append(g)
                sel = rows[ok]
                for key, val in (("ctx", np.full(sel.size, len(contexts) - 1)), ("vloc", vloc[ok]),
                                 ("edge", pos[ok]), ("logp_b", logp[b][pos[ok]] if cfg.behaviour_prob == "policy"
                                                     else np.log(np.maximum(info["matched_value"][b, sel], 1e-12))),
                                 ("reward", r[b, sel]),
                                 ("env", np.full(sel.size, b)), ("epoch", np.full(sel.size, k)),
                                 ("vehicle", sel), ("adv", adv[ok])):
                    cols[key].append(val)
            obs = next_obs
        metrics = info["metrics"]
        served = {"served": float(metrics["served"].mean()), "pickup": float(metrics["mean_pickup_min"].mean()),
                  "return": float(metrics["return"].mean()), "off_candidates": dropped}
        if not contexts:
            return {"n": 0, "train": served}
        buf = {key: np.concatenate(v) for key, v in cols.items()}
        if cfg.advantage == "episode_rtg":
            buf["adv"] = buf["adv"] + self.episode_reward_to_go(buf)
        buf["contexts"], buf["n"], buf["train"] = contexts, buf["edge"].size, served
        return buf

    def episode_reward_to_go(self, buf: dict[str, Any]) -> np.ndarray:
        """GRPO: z-score the raw rewards over each episode's matched pairs, then every vehicle's discounted
        reward-to-go over its assignment epochs (Δt in minutes)."""
        cfg = self.config
        minutes = self.problem.params.epoch_s / 60.0
        out = np.zeros(buf["reward"].size)
        for b in np.unique(buf["env"]):
            sel = np.flatnonzero(buf["env"] == b)
            r = buf["reward"][sel]
            z = (r - r.mean()) / (r.std() + 1e-8)
            veh, ep = buf["vehicle"][sel], buf["epoch"][sel]
            for i in np.unique(veh):
                mine = np.flatnonzero(veh == i)
                mine = mine[np.argsort(ep[mine], kind="stable")]
                horizon = None if cfg.rtg_horizon is None else cfg.rtg_horizon * minutes
                out[sel[mine]] = reward_to_go(z[mine], ep[mine] * minutes, cfg.gamma, horizon)
        return out

    # -- 2. loss and update -----------------------------------------------------------------------------------
    def loss_terms(self, mb: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        cfg = self.config
        mask = mb["order_mask"]
        lp_all = self.scorer.log_probs(mb["veh"].unsqueeze(1), mb["orders"], mask).squeeze(1)
        with torch.no_grad():
            lp_ref = self.ref.log_probs(mb["veh"].unsqueeze(1), mb["orders"], mask).squeeze(1)
        p = lp_all.exp()
        zero = torch.zeros_like(lp_all)
        kl = torch.where(mask, p * (lp_all - lp_ref), zero).sum(-1)
        if cfg.kl_mode == "mean":
            kl = kl / mask.sum(-1).clamp(min=1)
        entropy = -torch.where(mask, p * lp_all, zero).sum(-1)
        logratio = lp_all.gather(1, mb["slot"].unsqueeze(1)).squeeze(1) - mb["logp_b"]
        return self._clipped(logratio, mb["adv"], kl, entropy)

    def gnn_batch(self, contexts: list[dict[str, np.ndarray]]) -> dict[str, Any]:
        """All contexts of the round as one PyG ``Batch`` (built once per round: a 256-pair minibatch touches
        most of a round's ~30·B contexts anyway, so every minibatch runs the network on the whole batch),
        the node/edge offsets of each context and π_ref's edge log-probabilities."""
        from opsrl.policies.ride_gnn import batch_graphs, segment_log_softmax

        batch = batch_graphs(contexts)
        n_v = int(batch["vehicle"].num_nodes)
        src = batch["vehicle", "candidate", "order"].edge_index[0]
        with torch.no_grad():
            lp_ref = segment_log_softmax(self.ref.forward_batch(batch), src, n_v)
        return {"batch": batch, "n_v": n_v, "src": src, "lp_ref": lp_ref,
                "v_off": torch.as_tensor(np.cumsum([0] + [g["rows"].size for g in contexts])[:-1]),
                "e_off": torch.as_tensor(np.cumsum([0] + [g["src"].size for g in contexts])[:-1])}

    def loss_terms_gnn(self, mb: dict[str, torch.Tensor], full: dict[str, Any]) -> dict[str, torch.Tensor]:
        """:meth:`loss_terms` for the GNN (``full`` from :meth:`gnn_batch`): each sampled vehicle's π_θ,
        π_ref, KL and entropy are over its candidate edges."""
        from torch_geometric.utils import scatter

        from opsrl.policies.ride_gnn import segment_log_softmax

        cfg = self.config
        n_v, src, lp_ref = full["n_v"], full["src"], full["lp_ref"]
        lp = segment_log_softmax(self.scorer.forward_batch(full["batch"]), src, n_v)
        p = lp.exp()
        kl_v = scatter(p * (lp - lp_ref), src, dim=0, dim_size=n_v, reduce="sum")
        ent_v = scatter(-p * lp, src, dim=0, dim_size=n_v, reduce="sum")
        if cfg.kl_mode == "mean":
            kl_v = kl_v / scatter(torch.ones_like(p), src, dim=0, dim_size=n_v, reduce="sum").clamp(min=1)
        v = full["v_off"][mb["ctx"]] + mb["vloc"]
        logratio = lp[full["e_off"][mb["ctx"]] + mb["edge"]] - mb["logp_b"]
        return self._clipped(logratio, mb["adv"], kl_v[v], ent_v[v])

    def _clipped(self, logratio: torch.Tensor, adv: torch.Tensor, kl: torch.Tensor, entropy: torch.Tensor
                 ) -> dict[str, torch.Tensor]:
        cfg = self.config
        ratio = logratio.exp()
        lo, hi = 1.0 - cfg.clip_coef, 1.0 + cfg.clip_upper_factor * cfg.clip_coef
        pg = -torch.min(ratio * adv, ratio.clamp(lo, hi) * adv)
        return {"pg": pg.mean(), "kl": kl.mean(), "entropy": entropy.mean(),
                "clipfrac": ((ratio < lo) | (ratio > hi)).float().mean()}

    def update(self, buf: dict[str, Any]) -> dict[str, float]:
        cfg = self.config
        t = {"logp_b": torch.as_tensor(buf["logp_b"], dtype=torch.float32),
             "adv": torch.as_tensor(buf["adv"], dtype=torch.float32), "ctx": torch.as_tensor(buf["ctx"])}
        if self.gnn:
            t["vloc"], t["edge"] = torch.as_tensor(buf["vloc"]), torch.as_tensor(buf["edge"])
            full = self.gnn_batch(buf["contexts"])
        else:
            t["veh"], t["slot"] = torch.as_tensor(buf["veh"], dtype=torch.float32), torch.as_tensor(buf["slot"])
            orders, omask = torch.as_tensor(buf["orders"]), torch.as_tensor(buf["order_mask"])
        beta = cfg.kl_coef if self.kl_on else 0.0
        stats = {"pg_loss": 0.0, "kl": 0.0, "entropy": 0.0, "clipfrac": 0.0}
        done = skipped = 0
        kl_start = None  # KL to the snapshot before this round's first step
        for _ in range(cfg.minibatches):
            idx = torch.randint(buf["n"], (cfg.minibatch_size,))
            mb = {k: v[idx] for k, v in t.items()}
            if self.gnn:
                terms = self.loss_terms_gnn(mb, full)
            else:
                ctx = mb["ctx"]
                used = int(omask[ctx].sum(-1).max())  # drop the all-padding tail of this minibatch's contexts
                mb["orders"], mb["order_mask"] = orders[ctx, :used], omask[ctx, :used]
                terms = self.loss_terms(mb)
            if kl_start is None:
                kl_start = terms["kl"].item()
            if beta > 0 and terms["kl"].item() > kl_start + cfg.kl_skip:
                skipped += 1
                beta *= 2.0
                continue
            loss = terms["pg"] + beta * terms["kl"] - cfg.ent_coef * terms["entropy"]
            self.optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.scorer.parameters(), cfg.max_grad_norm)
            self.optimizer.step()
            done += 1
            for k, name in (("pg", "pg_loss"), ("kl", "kl"), ("entropy", "entropy"), ("clipfrac", "clipfrac")):
                stats[name] += terms[k].item()
        stats = {k: v / max(done, 1) for k, v in stats.items()}
        stats.update({"skipped": skipped, "beta": beta, "transitions": buf["n"]})
        return stats

    # -- 3. evaluation and the loop ---------------------------------------------------------------------------
    def evaluate_now(self) -> dict[str, float]:
        pol = self.policy()
        try:
            return dispatch_metrics(pol, self.env_id, self.preset, self.overrides, self.config.eval_episodes,
                                    self.config.eval_seed)
        finally:
            self.scorer.train()

    def policy(self):
        """The deterministic policy of the current weights (what the checkpoint loads as)."""
        if self.gnn:
            from opsrl.policies.ride_gnn import GNNScorerPolicy

            return GNNScorerPolicy(self.problem, self.scorer, self.config.candidate_k, name=self.algo)
        return RideScorerPolicy(self.problem, self.scorer, name=self.algo)

    def after_eval(self, res: dict[str, float]) -> None:
        if res["return"] > self.best_return:
            self.best_return, self.bad_evals, self.best_eval = res["return"], 0, dict(res)
            self.ref.load_state_dict(self.scorer.state_dict())  # π_ref = the best-evaluated weights
            self.save_policy(os.path.join(self.out, "best"))
        else:
            self.bad_evals += 1
            self.kl_on = True

    def run(self, budget_seconds: float) -> dict[str, Any]:
        cfg = self.config
        os.makedirs(self.out, exist_ok=True)
        start = time.perf_counter() - self.elapsed
        while self.iteration < cfg.iterations and time.perf_counter() - start < budget_seconds:
            if self.iteration >= cfg.min_iterations and self.bad_evals >= cfg.patience:
                break
            eps, lr = self.eps, self.optimizer.param_groups[0]["lr"]
            buf = self.collect()
            stats = self.update(buf) if buf["n"] else {"transitions": 0}
            self.scheduler.step()
            self.iteration += 1
            ev: dict[str, float] = {}
            if self.iteration % cfg.eval_every == 0:
                ev = self.evaluate_now()
                self.after_eval(ev)
            self.elapsed = time.perf_counter() - start
            self.log({"eps": eps, "lr": lr, **{f"train_{k}": v for k, v in buf["train"].items()}, **stats,
                      **{f"eval_{k}": ev.get(k, "") for k in ("served", "mean_pickup_min", "return")}})
            if self.iteration % cfg.checkpoint_every == 0:
                self.save()
        self.elapsed = time.perf_counter() - start
        self.save()
        return self.summary()

    def log(self, row: dict[str, Any]) -> None:
        append_progress(self.out, {
            "iteration": self.iteration, "episodes": self.iteration * self.config.num_envs,
            "seconds": round(self.elapsed, 3),
            **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}})

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"iterations": self.iteration, "episodes": self.iteration * self.config.num_envs,
                               "seconds": round(self.elapsed, 2), "best_eval": self.best_eval}
        if self.config.final_eval_episodes:
            from opsrl.eval import evaluate

            res = evaluate(self.out, self.env_id, self.preset, episodes=self.config.final_eval_episodes, seed=0,
                           overrides=self.overrides)
            out["eval"] = res.to_dict()
        return out

    # -- checkpoints ------------------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        if self.gnn:
            from opsrl.policies.ride_gnn import gnn_config

            loader, scorer = "opsrl.policies.ride_gnn:load_policy", {**gnn_config(self.scorer),
                                                                      "candidate_k": self.config.candidate_k}
        else:
            loader = "opsrl.policies.ride_scorer:load_policy"
            scorer = {"kind": "mlp", "vehicle_features": self.scorer.vehicle_features,
                      "hidden": list(self.scorer.hidden), "slope": self.scorer.slope}
        return {"loader": loader, "algo": self.algo, "env_id": self.env_id,
                "preset": self.preset, "overrides": self.overrides, "seed": self.seed, "scorer": scorer,
                "iteration": self.iteration, "config": dataclasses.asdict(self.config)}

    def save_policy(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        torch.save({"scorer": self.scorer.state_dict()}, os.path.join(path, "scorer.pt"))
        with open(os.path.join(path, CHECKPOINT_FILE), "w") as fh:
            json.dump(self.manifest(), fh, indent=2)

    def save(self) -> None:
        state = {"scorer": self.scorer.state_dict(), "ref": self.ref.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                 "rng": json.dumps(self.rng.bit_generator.state), "torch_rng": torch.get_rng_state(),
                 "iteration": self.iteration, "elapsed": self.elapsed, "kl_on": self.kl_on,
                 "best_return": float(self.best_return), "bad_evals": self.bad_evals,
                 "best_eval": json.dumps(self.best_eval)}
        save_train_state(self.out, state)
        self.save_policy(self.out)

    def try_resume(self) -> bool:
        s = load_train_state(self.out)
        if s is None:
            return False
        self.scorer.load_state_dict(s["scorer"])
        self.ref.load_state_dict(s["ref"])
        self.optimizer.load_state_dict(s["optimizer"])
        self.scheduler.load_state_dict(s["scheduler"])
        self.rng.bit_generator.state = json.loads(s["rng"])
        torch.set_rng_state(s["torch_rng"])
        self.iteration, self.elapsed, self.kl_on = int(s["iteration"]), float(s["elapsed"]), bool(s["kl_on"])
        self.best_return, self.bad_evals = float(s["best_return"]), int(s["bad_evals"])
        self.best_eval = json.loads(s["best_eval"])
        return True


class GRPO(OSPO):
    algo = "grpo"


def _numbers(options: dict[str, Any]) -> dict[str, Any]:
    """``--option learning_rate=3e-3`` arrives as the string '3e-3' (YAML 1.1 reads exponents without a dot
    as strings): convert strings given for float fields, with an error naming the field otherwise."""
    floats = {f.name for f in dataclasses.fields(OSPOConfig) if f.type in ("float", float)}
    out = dict(options)
    for k, v in options.items():
        if k in floats and isinstance(v, str):
            try:
                out[k] = float(v)
            except ValueError:
                raise ValueError(f"{k}={v!r} is invalid: expected a number") from None
    return out


def _run(cls: type[OSPO], env_id: str, preset: str | None, overrides: dict[str, Any], seed: int,
         budget_seconds: float, out: str, options: dict[str, Any]) -> dict[str, Any]:
    run = cls(env_id, preset, overrides, config_from(_numbers(options), OSPOConfig), seed, out)
    run.try_resume()
    return run.run(budget_seconds)


def train(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int, budget_seconds: float, out: str,
          **options: Any) -> dict[str, Any]:
    """``opsrl train ospo``: train (or resume) OSPO; returns a summary (best in-training evaluation and the
    final ``evaluate()``)."""
    return _run(OSPO, env_id, preset, overrides, seed, budget_seconds, out, {"advantage": "group", **options})


def train_grpo(env_id: str, preset: str | None, overrides: dict[str, Any], seed: int, budget_seconds: float,
               out: str, **options: Any) -> dict[str, Any]:
    """``opsrl train grpo``: OSPO's loop with GRPO's episode-normalised reward-to-go advantage."""
    return _run(GRPO, env_id, preset, overrides, seed, budget_seconds, out,
                {**options, "advantage": "episode_rtg"})
