"""The PyTorch golden model: the hardware-aware P2M first layer (ideal / fitted / chip
modes), the backend SNN, training, evaluation, metrics, export to a chip configuration,
the paper's experiments and the shipped checkpoints (docs/golden.md).

It reads its events through :mod:`events` and its device curves through
:mod:`analog_models`; it imports nothing else of the project.
"""

import logging as _logging

# torch logs "Triton not available" at the first custom autograd Function on a CPU-only
# build (SpikingJelly's surrogates): harmless, and not what a user of the bench should read
_logging.getLogger("torch._library.triton").setLevel(_logging.ERROR)
