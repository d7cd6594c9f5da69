"""Behavioural models of the P2M MDWMTJ analog array (numpy, vectorized)."""
