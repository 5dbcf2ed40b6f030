"""Modules loaded when first used rather than when imported: a library only one job needs (matplotlib
for the digest's chart) would otherwise be loaded by every `kaizen` command, half a second of start-up.

It is the standard library's recipe (importlib.util.LazyLoader, "Implementing lazy imports" in
importlib's documentation), extended to a submodule: its parent packages are made lazy too, since
finding a submodule the usual way runs its parent.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType

_specs: dict[str, importlib.machinery.ModuleSpec] = {}  # of the modules made lazy here (their own spec loads them)


def load_when_used(name: str) -> ModuleType:
    """The module `name` ("matplotlib.figure"), run at its first attribute access, not now."""
    if name in sys.modules:
        return sys.modules[name]
    parent, _, _ = name.rpartition(".")
    if parent:
        load_when_used(parent)
        search = _specs[parent].submodule_search_locations if parent in _specs else sys.modules[parent].__path__
        spec = importlib.machinery.PathFinder.find_spec(name, search)
    else:
        spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    _specs[name] = spec
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
