"""Hide secrets in text before anyone sees it: log lines, events, run files.

kubeadm prints two kinds of secret: bootstrap tokens (`abcdef.0123456789abcdef`,
where the part after the dot is the secret and the 6-char id is safe to show,
as `kubeadm token list` does) and certificate keys (64 hex; they decrypt the
cluster's uploaded certificates). Anything else secret — a sudo password — is
passed in as `extra` literal text.

Every rule marks spans on the *original* line and the spans are replaced
together, so one rule's replacement can never break another rule's match
(a password that contains a token must still lose both).

A run's `Masker` adds the literals only that run knows: passwords given at
run time and whatever a step registers once it learns it (`add_secret`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from kwizard.run.events import Event, FindingReported

MASK = "<masked>"

# A literal secret shorter than this (a sudo password such as "kube") also
# occurs inside ordinary words: masking every occurrence would garble
# kwizard's own output (`registry.k8s.io/<masked>-apiserver`) and, worse,
# reveal the secret by where the masks fall. So a short secret is masked only
# where it stands as a whole token (between whitespace, quotes, `=` or `:`, or
# the line's ends) — which is how a secret is printed when something does
# print it — and the run says once that it is short (`is_short_secret`).
MIN_MASKABLE_LENGTH = 8
SHORT_SECRET_NOTE = (
    f"a password given to this run is shorter than {MIN_MASKABLE_LENGTH} characters: kwizard masks it "
    "only where it stands alone in a line (masking it inside words would garble the logs and show where it is); "
    "sudo never prints it, but a longer password is safer"
)
_TOKEN_EDGE = r"""\s"'=:,;()\[\]{}"""

BOOTSTRAP_TOKEN_RE = re.compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")
CERTIFICATE_KEY_RE = re.compile(r"(?P<flag>--certificate-key(?:=|\s+))(?P<key>[0-9a-fA-F]{64})")

# Only the secret half of a token is hidden. A lookbehind (not a consumed id)
# keeps back-to-back matches from swallowing the next token's id and so
# missing its secret.
_TOKEN_SECRET_RE = re.compile(r"(?<=[a-z0-9]{6}\.)[a-z0-9]{16}")
# `kubeadm init --upload-certs` prints the key alone on the line after
# "[upload-certs] Using certificate key:"; `certificateKey:` is its YAML form.
_BARE_KEY_LINE_RE = re.compile(r"^\s*(?P<key>[0-9a-fA-F]{64})\s*$")
_YAML_KEY_RE = re.compile(r"certificateKey:\s*[\"']?(?P<key>[0-9a-fA-F]{64})")


def mask_known_secrets(line: str, extra: Iterable[str] = ()) -> str:
    """`line` with token secrets, certificate keys and each `extra` string replaced by <masked>."""
    spans = _merge(_secret_spans(line, [s for s in extra if s]))
    if not spans:
        return line
    pieces, cursor = [], 0
    for start, end in spans:
        pieces.append(line[cursor:start])
        pieces.append(MASK)
        cursor = end
    pieces.append(line[cursor:])
    return "".join(pieces)


def _secret_spans(line: str, extras: list[str]) -> list[tuple[int, int]]:
    spans = [m.span() for m in _TOKEN_SECRET_RE.finditer(line)]
    for pattern in (CERTIFICATE_KEY_RE, _YAML_KEY_RE, _BARE_KEY_LINE_RE):
        spans.extend(m.span("key") for m in pattern.finditer(line))
    for secret in extras:
        spans.extend(_occurrences(line, secret) if not is_short_secret(secret) else _whole_tokens(line, secret))
    return spans


def is_short_secret(secret: str) -> bool:
    return len(secret) < MIN_MASKABLE_LENGTH


def _whole_tokens(line: str, text: str) -> list[tuple[int, int]]:
    pattern = rf"(?<![^{_TOKEN_EDGE}]){re.escape(text)}(?![^{_TOKEN_EDGE}])"
    return [m.span() for m in re.finditer(pattern, line)]


def _occurrences(line: str, text: str) -> list[tuple[int, int]]:
    """Every place `text` occurs, overlapping ones included ("aa" in "aaa" twice)."""
    found, start = [], line.find(text)
    while start != -1:
        found.append((start, start + len(text)))
        start = line.find(text, start + 1)
    return found


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# --- a run's masker: the known shapes plus the run's literal secrets ---
# Event fields that carry text from the remote side or from errors; ids and host names are not free text.
FREE_TEXT_FIELDS = ("line", "error", "diagnosis", "reason")


class Masker:
    """Hides secrets in text: known shapes (tokens, certificate keys) and literals.

    Literals are what the run was given (passwords) and what steps register
    with `add_secret` (a join token once it is known).
    """

    def __init__(self, secrets: Iterable[str] = ()):
        self._literals: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret:
            self._literals.add(secret)

    def __call__(self, text: str) -> str:
        return mask_known_secrets(text, self._literals)

    def has_short_secret(self) -> bool:
        return any(is_short_secret(s) for s in self._literals)

    def event(self, event: Event) -> Event:
        """The same event with every free-text field masked (ids and host names are not free text)."""
        changes: dict[str, Any] = {}
        for name in FREE_TEXT_FIELDS:
            value = getattr(event, name, None)
            if isinstance(value, str):
                changes[name] = self(value)
        if isinstance(event, FindingReported):
            finding = event.finding
            changes["finding"] = dataclasses.replace(finding, message=self(finding.message), fix=self(finding.fix))
        return dataclasses.replace(event, **changes) if changes else event
