"""sau-mm: long-tailed recognition with synthetic data, as an MMPretrain plugin.

Importing this package applies the compatibility fixes (:mod:`sau_mm.compat`)
and registers every component in MMPretrain's registries, so configs only need
``custom_imports = dict(imports=['sau_mm'])`` and ``default_scope='mmpretrain'``.
"""
from . import compat

compat.apply()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

__version__ = '0.1.0'
