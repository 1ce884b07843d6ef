"""Turning pydantic's errors about a profile into messages a person can act on.

One sentence per problem, with the fix; a key that looks like a secret is
refused with a message saying where secrets go instead (by reference, never
in the file).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


# Key names that mean "a secret is about to be written into a file".
_SECRET_WORDS = ("password", "passwd", "token", "secret", "certificate_key", "private_key")


SHOWN_CHARS = 60  # how much of a wrong value a message repeats


def shown(value: object) -> str:
    """A value as a message quotes it: repr, cut to SHOWN_CHARS with the full length said (a 10 MB value is not echoed)."""
    text = repr(value)
    if len(text) <= SHOWN_CHARS:
        return text
    length = len(value) if isinstance(value, (str, bytes, list, dict)) else len(text)
    return f"{text[:SHOWN_CHARS]}… ({length:,} characters)"


def looks_like_secret(key: str) -> bool:
    lowered = key.lower()
    return not lowered.endswith("_env") and any(word in lowered for word in _SECRET_WORDS)


# Where a profile may name a secret, by reference: the section and the field.
SECRET_REFERENCES = {"ssh": "sudo_password_env", "cni_options": "encryption_password_env"}


def _secret_fix(loc: tuple[Any, ...]) -> str:
    section = str(loc[-2]) if len(loc) >= 2 else ""
    reference = SECRET_REFERENCES.get(section)
    if reference:
        return (
            f"write '{reference}: VAR' (the name of an environment variable holding it) instead"
            + (", or pass it at run time with --sudo-password-stdin" if section == "ssh" else "")
        )
    known = ", ".join(f"{field} (under {where})" for where, field in SECRET_REFERENCES.items())
    return f"remove it; the secrets kwizard uses are named by reference: {known}"


def error_message(error: dict[str, Any]) -> str:
    """One readable sentence for one pydantic error, with the fix."""
    kind = error["type"]
    key = str(error["loc"][-1]) if error["loc"] else ""
    if kind == "extra_forbidden" and looks_like_secret(key):
        return f"'{key}' would store a secret in the profile, and profiles never hold secrets; {_secret_fix(error['loc'])}"
    if kind == "extra_forbidden":
        return f"unknown key '{key}'; check its spelling against the profile reference (docs/profiles.md)"
    if kind == "literal_error" and key == "version":
        from kwizard.profile.model import SCHEMA_VERSION  # noqa: PLC0415 - the model imports this module

        return (
            f"profile schema version {shown(error.get('input'))} is not one this kwizard reads "
            f"(it reads version {SCHEMA_VERSION}); upgrade kwizard or set version: {SCHEMA_VERSION}"
        )
    if kind == "missing":
        return "required, but missing"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def error_path(loc: tuple[Any, ...]) -> str:
    """('hosts', 1, 'address') -> 'hosts[1].address'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(profile)"


def problems_from_error(error: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """(location, message) per problem, in the order pydantic found them."""
    return [(tuple(e["loc"]), error_message(e)) for e in error.errors()]
