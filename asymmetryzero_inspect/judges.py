"""Choose a sample's judges and send their requests through Inspect models bound to the jury role.

Judges come, in this order of precedence, from an explicit list of model names, from a jury
profile named in the contract, from the Inspect model role ``jury`` (``--model-role
jury=a,b,c``), or from the contract's default jury.
"""

from __future__ import annotations

from copy import copy
from typing import Any

from inspect_ai.model import GenerateConfig, Model, get_model, model_roles
from pydantic import ValidationError

from shared_contract.inspect_backend import InspectBackend
from shared_contract.schema import Judge, JudgeSettings

JURY_ROLE = "jury"


class RoleBackend(InspectBackend):
    """An InspectBackend whose models carry an Inspect model role.

    Inspect reports a model's usage under its role (``role_usage`` in the log), so judge tokens
    and cost show up under ``jury`` beside the per-model usage, never under the solver's role.
    """

    def __init__(self, role: str = JURY_ROLE, image_models: set[str] | None = None):
        super().__init__(image_models=image_models)
        self.role = role

    def bind(self, models: dict[str, Model]) -> None:
        """Use these Model objects (already bound to the role) for their model names."""
        self._models.update(models)

    def _model(self, name: str) -> Any:
        if name not in self._models:
            # A copy, so the memoized instance a solver may share keeps its own role.
            model = copy(get_model(name))
            # NOTE: Model._set_role is private (inspect-ai 0.3.285). get_model(role=...) cannot be
            # used here: when the role is bound it returns the role's first model, not `name`.
            model._set_role(self.role)
            self._models[name] = model
        return self._models[name]


def parse_model_names(judges: str | list[str] | None) -> list[str]:
    """Split a comma-separated list of model names (``-S judges=a,b,c``); an empty entry is an error.

    Raises:
        ValueError: an entry is empty.
    """
    if judges is None:
        return []
    items = judges.split(",") if isinstance(judges, str) else list(judges)
    names = [str(item).strip() for item in items]
    if any(not name for name in names):
        raise ValueError(f"judges {judges!r} contains an empty model name; pass names separated by commas, e.g. judges=openai/gpt-4o,anthropic/claude-sonnet-4-0")
    return names


def settings_from_config(model: str, config: GenerateConfig) -> JudgeSettings:
    """Carry a role model's generation settings into pinned judge settings (unset fields keep the defaults).

    Raises:
        ValueError: a setting is outside what judge settings allow.
    """
    fields = {
        "temperature": config.temperature,
        "seed": config.seed,
        "max_tokens": config.max_tokens,
        "reasoning_effort": config.reasoning_effort,
        "top_p": config.top_p,
    }
    try:
        return JudgeSettings(**{key: value for key, value in fields.items() if value is not None})
    except ValidationError as error:
        raise ValueError(f"model role {JURY_ROLE!r}: settings of {model!r} are not valid judge settings: {error}") from None


def role_judges(role: str = JURY_ROLE) -> tuple[list[Judge], dict[str, Model]]:
    """Return the judges bound to a model role and their Model objects by name; empty when the role is unbound."""
    bound = model_roles().get(role)
    if bound is None:
        return [], {}
    models = bound if isinstance(bound, list) else [bound]
    judges = [Judge(model=str(model), settings=settings_from_config(str(model), model.config)) for model in models]
    return judges, {str(model): model for model in models}


def choose_panel(
    explicit: list[str],
    jury: str | None,
    backend: RoleBackend,
    role: str = JURY_ROLE,
) -> tuple[str | None, list[Judge] | None]:
    """Pick the jury name and judges to hand to ``Grader.grade``.

    Returns:
        (jury name, judges). Explicit judges come back as the ``custom`` jury, and a jury named
        in the contract as ``(jury, None)``. The role's judges are named ``role:<role>``.
        ``(None, None)`` lets the contract's default jury decide.
    """
    if explicit:
        return "custom", [Judge(model=name) for name in explicit]
    if jury:
        return jury, None
    judges, models = role_judges(role)
    if judges:
        backend.bind(models)
        return f"role:{role}", judges
    return None, None
