"""torch-geometric views of the ``obs_mode="graph"`` observation (torch_geometric is imported lazily).

The env's graph observation is padded to fixed shapes so that Gymnasium spaces and vector envs can batch
it: ``edge_index`` (2, E_max) and ``edge_type`` (E_max,) end with −1 padding. :func:`to_pyg` strips the
padding and returns a ``torch_geometric.data.Batch`` whose node ``x`` are the op features; the candidate op
of each job, the mask and the job → graph assignment ride along so that an actor can score
``h[candidate]`` and take a masked softmax per graph:

* ``batch.x`` [B·N, F], ``batch.edge_index`` [2, E], ``batch.edge_type`` [E] (0 job, 1 machine, 3 self-loop);
* ``batch.candidate`` [B·n] global node index of each job's next op, ``batch.action_mask`` [B·n] bool,
  ``batch.job_batch`` [B·n] graph of each job, ``batch.batch`` [B·N] graph of each node.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def to_pyg(obs: dict[str, Any], device: Any = None):
    import torch
    from torch_geometric.data import Batch, Data

    feat = np.asarray(obs["op_features"])
    if feat.ndim == 2:  # a single env's observation
        obs = {k: np.asarray(v)[None] for k, v in obs.items()}
        feat = obs["op_features"]
    graphs = []
    n_nodes = feat.shape[1]
    for b in range(feat.shape[0]):
        keep = np.asarray(obs["edge_type"][b]) >= 0
        graphs.append(Data(
            x=torch.as_tensor(feat[b], dtype=torch.float32),
            edge_index=torch.as_tensor(np.asarray(obs["edge_index"][b])[:, keep], dtype=torch.long),
            edge_type=torch.as_tensor(np.asarray(obs["edge_type"][b])[keep], dtype=torch.long),
            action_mask=torch.as_tensor(np.asarray(obs["action_mask"][b]) > 0),
            candidate_local=torch.as_tensor(np.asarray(obs["candidate"][b]), dtype=torch.long),
        ))
    batch = Batch.from_data_list(graphs)
    n_jobs = graphs[0].candidate_local.shape[0]
    offsets = torch.arange(len(graphs)).repeat_interleave(n_jobs)
    batch.candidate = batch.candidate_local + offsets * n_nodes
    batch.job_batch = offsets
    return batch.to(device) if device is not None else batch
