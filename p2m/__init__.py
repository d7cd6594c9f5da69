"""P2M co-simulation bench: the `p2m` console script (a thin layer over the rooms)."""

__version__ = "0.1.0"
