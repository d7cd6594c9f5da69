"""The golden model: event data layer, hardware-aware P2M first layer, backend SNN."""
