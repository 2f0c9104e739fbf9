"""Answers to the assignments, one module per assignment (see test_assignments.py).

Each module has ``ANSWERS``, plausible wrong answers with the test cells each must lose,
and may have ``ALSO_RIGHT``, answers that differ from the reference but are right (another
standard convention, say) and must get full marks.
"""

from importlib import import_module

NAMES = ["batchnorm", "dropout_clipping", "initializers", "optimizers"]
MODULES = {name: import_module(f"{__name__}.{name}") for name in NAMES}

WRONG_ANSWERS = {name: module.ANSWERS for name, module in MODULES.items()}
ALSO_RIGHT = {name: getattr(module, "ALSO_RIGHT", []) for name, module in MODULES.items()}
