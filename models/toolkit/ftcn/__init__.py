"""FTCN+TT model family: definition, checkpoint loading, ONNX export and manifest writing."""
from .model import FAST, FULL, CONFIGS, FtcnConfig, FtcnTT, gflops_per_clip, gmacs_per_clip, parameter_count  # noqa: F401
