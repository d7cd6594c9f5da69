"""The PyTorch golden model: the hardware-aware P2M first layer (ideal / fitted / chip
modes), the backend SNN, training, evaluation and metrics (to be added).

It reads its events through :mod:`events` and its device curves through
:mod:`analog_models`; it imports nothing else of the project.
"""
