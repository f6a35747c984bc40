"""Evaluation: common-random-number episodes, mean ± 95% CI, gap to the instance's reference."""

from opsrl.eval.evaluate import EvalResult, evaluate, run_episodes, scenario_seeds
from opsrl.eval.reference import Reference
from opsrl.eval.references import best_reference, references
from opsrl.eval.stats import bootstrap_ci, gap_pct, iqm, mean_ci95

__all__ = ["EvalResult", "Reference", "best_reference", "bootstrap_ci", "evaluate", "gap_pct", "iqm",
           "mean_ci95", "references", "run_episodes", "scenario_seeds"]
