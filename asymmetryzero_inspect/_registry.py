"""Entry point for Inspect AI: importing this module registers the package's extensions."""

from asymmetryzero_inspect.local_model import local
from asymmetryzero_inspect.metrics import invalid_vote_rate, judge_cost_usd, judge_latency_s, jury_split_rate
from asymmetryzero_inspect.replay import ReplayModel
from asymmetryzero_inspect.scorer import contract_scorer
from asymmetryzero_inspect.solver import replay_solver
from asymmetryzero_inspect.task import contract_eval

__all__ = [
    "local",
    "ReplayModel",
    "contract_eval",
    "contract_scorer",
    "invalid_vote_rate",
    "judge_cost_usd",
    "judge_latency_s",
    "jury_split_rate",
    "replay_solver",
]
