"""The one profile draft the wizard edits, and validation said per field.

A new cluster has no hosts yet, which a `Profile` refuses, so the draft
starts as `Profile.model_construct` (unvalidated) and every piece the user
edits is validated on its own (a `Host`, the `SSHSettings`, the
`ClusterSpec`). The whole profile is validated when it is saved.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from kwizard.profile.model import ClusterSpec, Profile, SSHSettings, error_path, problems_from_error

NEW_PROFILE_NAME = "new-cluster"


def new_draft(name: str = NEW_PROFILE_NAME) -> Profile:
    return Profile.model_construct(name=name, ssh=SSHSettings(), hosts=[], cluster=ClusterSpec())


def updated(draft: Profile, **changes: Any) -> Profile:
    """A copy with top-level fields replaced (each replacement already validated by its own model)."""
    return draft.model_copy(update=changes)


def readable(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """(location, message) per problem, in a person's words where pydantic has only its own."""
    found = []
    for (loc, message), error in zip(problems_from_error(exc), exc.errors()):
        ctx = error.get("ctx") or {}
        kind = error["type"]
        if kind == "missing":
            message = "needed: fill this in"
        elif kind in ("greater_than_equal", "greater_than") and ("ge" in ctx or "gt" in ctx):
            message = f"too small: the least it can be is {ctx.get('ge', ctx.get('gt'))}"
        elif kind in ("less_than_equal", "less_than") and ("le" in ctx or "lt" in ctx):
            message = f"too big: the most it can be is {ctx.get('le', ctx.get('lt'))}"
        elif kind in ("int_parsing", "int_type", "int_from_float"):
            message = "a whole number, please"
        found.append((loc, message))
    return found


def field_errors(model: type[BaseModel], data: dict[str, Any]) -> dict[str, str]:
    """{field: message} for what is wrong in `data` as a `model`; empty when it validates."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for loc, message in readable(exc):
            errors.setdefault(str(loc[0]) if loc else "", message)
        return errors
    return {}


def profile_problems(draft: Profile) -> list[str]:
    """Every reason the draft is not yet a valid profile, as 'field: message' lines."""
    try:
        Profile.model_validate(draft.model_dump(mode="json"))
    except ValidationError as exc:
        return [f"{error_path(loc)}: {message}" for loc, message in readable(exc)]
    return []


def validated(draft: Profile) -> Profile:
    """The draft as a fully validated Profile; raises ValidationError."""
    return Profile.model_validate(draft.model_dump(mode="json"))
