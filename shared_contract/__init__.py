"""AsymmetryZero core: evaluation contracts, deterministic checks, the LLM jury and aggregation.

This package imports neither inspect_ai nor harbor; the Inspect backend imports inspect_ai
lazily, only when it is used.
"""

from shared_contract.audit import Decision, VerdictRecord, Vote, VoteVerdict
from shared_contract.loading import ContractError, contract_hash, load_contract
from shared_contract.schema import Contract, Criterion

__all__ = ["Contract", "ContractError", "Criterion", "Decision", "VerdictRecord", "Vote", "VoteVerdict", "contract_hash", "load_contract"]
