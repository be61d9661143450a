"""Attack modules, one job each, and their registry (interface: base.py).

To add an attack: a new module here with a subclass of base.Attack decorated with
@base.register, and its name in MODULES. `sotto-adversary attacks` lists them."""
import importlib

from .base import REGISTRY, Attack, CorruptView, ObserverView, register  # noqa: F401

MODULES = ["passive", "leak6", "idorder", "nminus1", "ackwithhold", "mailbox", "sda"]

for _m in MODULES:
    importlib.import_module(f"{__name__}.{_m}")
