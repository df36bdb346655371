"""Writes the PyTorch weight-file fixtures of PyTorchFilesTests (run with PyTorch 1.13: python3 make_pth_fixtures.py).

- small_state_dict.pth: torch.save of a state dict (the zip format, PyTorch's default since 1.6) with
  torchvision VGG-style names: the `small` backbone's first convolution (features.0.*, float32), the
  second one's bias stored as float16 (features.2.bias), and a tensor no backbone has (classifier.6.bias,
  like ImageNet's last layer). Values from torch.manual_seed(0).
- small_state_dict.expected.json: per tensor its dtype, shape and the SHA-256 of its little-endian bytes,
  so a reader can be checked bit for bit.
- legacy_state_dict.pth: a state dict in the legacy (pre-1.6, non-zip) format
  (torch.save(..., _use_new_zipfile_serialization=False)), as old model-zoo files are.
- whole_module.pth: a whole pickled module (torch.save(model)) instead of its state dict.
"""
import collections
import hashlib
import json

import torch
from torch import nn


def main():
    torch.manual_seed(0)
    state = collections.OrderedDict()
    state["features.0.weight"] = torch.randn(32, 3, 5, 5) * 0.1
    state["features.0.bias"] = torch.randn(32) * 0.01
    state["features.2.bias"] = (torch.randn(64) * 0.01).half()
    state["classifier.6.bias"] = torch.randn(10)
    torch.save(state, "small_state_dict.pth")

    expected = {"pytorch": torch.__version__, "tensors": {}}
    for name, value in state.items():
        data = value.contiguous().numpy().tobytes()  # little-endian on every machine PyTorch runs on here
        expected["tensors"][name] = {
            "dtype": str(value.dtype).replace("torch.", ""),
            "shape": list(value.shape),
            "sha256": hashlib.sha256(data).hexdigest(),
            "first": [float(v) for v in value.flatten()[:3]],
        }
    with open("small_state_dict.expected.json", "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")

    legacy = collections.OrderedDict([("features.0.bias", state["features.0.bias"])])
    torch.save(legacy, "legacy_state_dict.pth", _use_new_zipfile_serialization=False)

    torch.save(nn.Sequential(nn.Conv2d(3, 4, 1)), "whole_module.pth")


if __name__ == "__main__":
    main()
