"""Imports asyncssh without its compiler-driven library search; fleet and session import it through here.

At import, asyncssh.crypto.pq looks for liboqs (its optional sntrup761 and
ML-KEM backend) with `ctypes.util.find_library("oqs")` and then
`("liboqs")`. On Linux each call asks `ldconfig -p`, then tries to link a
test program with gcc, then runs `ld` (CPython Lib/ctypes/util.py,
find_library for posix): on a machine with a compiler and no liboqs, six
processes and about 50 ms on every kwizard start that connects anywhere.

A library found that way is loaded by its soname (`ctypes.cdll.LoadLibrary`),
which the dynamic loader resolves from its cache or LD_LIBRARY_PATH
(ld.so(8)); so during that one import kwizard answers the lookup from those
two: ldconfig's cache (CPython's own first step) and the LD_LIBRARY_PATH
folders (what its `ld` step searches). Where asyncssh finds liboqs, it still does.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import os
from collections.abc import Iterator


def loader_lookup(name: str) -> str | None:
    """find_library(name) as the dynamic loader can load it: ldconfig's cache, then LD_LIBRARY_PATH."""
    from_cache = getattr(ctypes.util, "_findSoname_ldconfig", None)
    if from_cache is None:  # not CPython's posix util: its own lookup, unchanged
        return _ORIGINAL(name)
    found = from_cache(name)
    if found:
        return found
    prefix = f"lib{name}.so"
    for folder in filter(None, os.environ.get("LD_LIBRARY_PATH", "").split(":")):
        try:
            names = sorted(n for n in os.listdir(folder) if n == prefix or n.startswith(prefix + "."))
        except OSError:
            continue
        if names:
            return names[0]
    return None


_ORIGINAL = ctypes.util.find_library


@contextlib.contextmanager
def _loader_lookup_only() -> Iterator[None]:
    ctypes.util.find_library = loader_lookup
    try:
        yield
    finally:
        ctypes.util.find_library = _ORIGINAL


with _loader_lookup_only():
    import asyncssh  # noqa: F401 - the one import; kwizard.ssh's modules use it from sys.modules
