# SPDX-License-Identifier: Apache-2.0
"""Builds the torch recurrent models of tests/models: ONNX LSTM and GRU operators as torch.onnx.export writes
them (issue #16). Run by hand only, in the exporters' venv (see README.md here):

    /work/venv-exporters/bin/python tests/models/make_torch_recurrent.py

Weights are random (seeded). Each <name>.onnx has its representative inputs in <name>.npz (float32, keyed by
the file's input name, samples first). Batch 1, static sequence lengths: what runs on a microcontroller.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 16
SAMPLES = 64


def sequences(rng, n, steps, features):
    """Smooth, MFCC- or IMU-like sequences: a running mean over time of normal noise, plus a slow drift."""
    x = rng.normal(size=(n, steps + 4, features))
    x = (x[:, :-4] + x[:, 1:-3] + x[:, 2:-2] + x[:, 3:-1] + x[:, 4:]) / 2.5
    x += np.linspace(-0.5, 0.5, steps)[None, :, None] * rng.normal(size=(n, 1, features))
    return x.astype(np.float32)


def models():
    import torch
    from torch import nn

    class GruKws(nn.Module):
        """Keyword spotting on 49 frames of 10 MFCCs: GRU(64), the last step's state -> 12 classes."""
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(10, 64, batch_first=True)
            self.fc = nn.Linear(64, 12)

        def forward(self, x):
            y, _ = self.gru(x)
            return self.fc(y[:, -1, :])

    class LstmGesture(nn.Module):
        """Gesture recognition on 64 IMU samples of 6 axes: LSTM(32) (sequence first inside: the input is moved
        to [T, 1, 6]), its final h (Y_h) -> 8 classes."""
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(6, 32)
            self.fc = nn.Linear(32, 8)

        def forward(self, x):           # x: [1, T, 6]
            _, (h, _) = self.lstm(x.transpose(0, 1))
            return self.fc(h[-1])

    class BiLstm(nn.Module):
        """Bidirectional LSTM(16) over 20 steps of 8 features, the mean over time of both directions -> 4."""
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(8, 16, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(32, 4)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.fc(y.mean(dim=1))

    class Crnn(nn.Module):
        """CRNN keyword spotter: Conv2d + BatchNorm + ReLU over 49x10 MFCCs (stride 2 in time), the channels and
        frequencies of each frame as one vector, GRU(32), the last step -> 12 classes."""
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, (5, 3), stride=(2, 2), padding=(2, 1))
            self.bn = nn.BatchNorm2d(8)
            self.gru = nn.GRU(8 * 5, 32, batch_first=True)
            self.fc = nn.Linear(32, 12)

        def forward(self, x):            # x: [1, 1, 49, 10]
            x = torch.relu(self.bn(self.conv(x)))          # [1, 8, 25, 5]
            x = x.permute(0, 2, 1, 3).reshape(1, 25, 40)   # frames first
            y, _ = self.gru(x)
            return self.fc(y[:, -1, :])

    class Lstm2(nn.Module):
        """Two stacked LSTM(24) layers over 32 steps of 6 features, the last output -> 5."""
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(6, 24, num_layers=2, batch_first=True)
            self.fc = nn.Linear(24, 5)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.fc(y[:, -1, :])

    return torch, nn, [
        ("torch_gru_kws", GruKws, (1, 49, 10), 13, False),
        ("torch_gru_kws_dynamo", GruKws, (1, 49, 10), 18, True),
        ("torch_lstm_gesture", LstmGesture, (1, 64, 6), 14, False),
        ("torch_bilstm", BiLstm, (1, 20, 8), 13, False),
        ("torch_crnn", Crnn, (1, 1, 49, 10), 13, False),
        ("torch_lstm2", Lstm2, (1, 32, 6), 14, False),
    ]


def bn_stats(torch, model, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


def export(torch, name, build, shape, opset, dynamo, rng):
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    model = build().eval()
    bn_stats(torch, model, gen)
    path = os.path.join(HERE, name + ".onnx")
    if len(shape) == 4:  # the CRNN: MFCC images
        x = rng.normal(size=(SAMPLES,) + shape[1:]).astype(np.float32)
        x = (x + np.roll(x, 1, 1) + np.roll(x, -1, 1)).astype(np.float32) / 2
    else:
        x = sequences(rng, SAMPLES, shape[1], shape[2])
    example = torch.from_numpy(x[:1].reshape(shape))
    with torch.no_grad():
        if dynamo:
            torch.onnx.export(model, (example,), path, input_names=["input"], output_names=["output"],
                              opset_version=opset, dynamo=True, external_data=False)
        else:
            torch.onnx.export(model, (example,), path, input_names=["input"], output_names=["output"],
                              opset_version=opset, dynamo=False)
    np.savez_compressed(os.path.join(HERE, name + ".npz"), input=x.reshape((SAMPLES,) + shape[1:]))
    print(name, os.path.getsize(path), "bytes")


def main():
    torch, _, specs = models()
    wanted = set(sys.argv[1:])
    for k, (name, build, shape, opset, dynamo) in enumerate(specs):
        if not wanted or name in wanted:  # each model its own seeded data: a subset rebuilds the same files
            export(torch, name, build, shape, opset, dynamo, np.random.default_rng([SEED, k]))


if __name__ == "__main__":
    main()
