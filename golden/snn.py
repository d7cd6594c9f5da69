"""The spiking building blocks, from SpikingJelly's ``activation_based`` package.

SpikingJelly 2.0's own requirements (torchvision, torchaudio, ...) would replace the CPU
torch that ``make setup`` installs with a CUDA build of another version, so ``make setup``
installs it with ``pip install --no-deps spikingjelly==2.0.0`` plus the one requirement
its ``activation_based`` package imports (loguru); nothing here needs torchvision.
"""

from __future__ import annotations

from torch import nn

#: The SpikingJelly release the bench is tested with (``make setup`` installs it).
SPIKINGJELLY_VERSION = "2.0.0"


def _sj():
    """SpikingJelly's ``activation_based`` modules, or an ImportError saying how to install."""
    try:
        from spikingjelly.activation_based import functional, layer, neuron, surrogate
    except ImportError as exc:
        raise ImportError(
            f"the golden model needs SpikingJelly {SPIKINGJELLY_VERSION} ({exc}); install it "
            f"without its requirements, which would replace torch: "
            f"pip install --no-deps spikingjelly=={SPIKINGJELLY_VERSION} 'loguru>=0.7,<1' "
            f"(make setup does this)") from exc
    return functional, layer, neuron, surrogate


def lif_node(tau: float = 2.0) -> nn.Module:
    """A multi-step LIF neuron (threshold 1, hard reset to 0, detached reset, arctan
    surrogate): input (T, ...) currents, output (T, ...) spikes."""
    _, _, neuron, surrogate = _sj()
    return neuron.LIFNode(tau=tau, v_threshold=1.0, v_reset=0.0, detach_reset=True,
                          surrogate_function=surrogate.ATan(), step_mode="m")


def conv_bn(in_ch: int, out_ch: int) -> list[nn.Module]:
    """Multi-step 3x3 convolution (padding 1, no bias) and batch norm."""
    _, layer, _, _ = _sj()
    return [layer.Conv2d(in_ch, out_ch, 3, padding=1, bias=False, step_mode="m"),
            layer.BatchNorm2d(out_ch, step_mode="m")]


def max_pool() -> nn.Module:
    """Multi-step 2x2 max pooling."""
    _, layer, _, _ = _sj()
    return layer.MaxPool2d(2, 2, step_mode="m")


def avg_pool() -> nn.Module:
    """Multi-step 2x2 average pooling."""
    _, layer, _, _ = _sj()
    return layer.AvgPool2d(2, 2, step_mode="m")


def flatten() -> nn.Module:
    _, layer, _, _ = _sj()
    return layer.Flatten(step_mode="m")


def linear(in_f: int, out_f: int, bias: bool = True) -> nn.Module:
    _, layer, _, _ = _sj()
    return layer.Linear(in_f, out_f, bias=bias, step_mode="m")


def reset_states(net: nn.Module) -> None:
    """Reset every neuron's membrane (between samples/batches)."""
    functional, _, _, _ = _sj()
    functional.reset_net(net)
