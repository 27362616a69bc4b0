"""A real, small PyTorch training (CPU) marked with wattprint phases: a 2-layer CNN on random 1x16x16 images
of 10 classes, 3 epochs of a few batches, each epoch with a nested "train" and "eval" phase.

    wattprint run --json report.json -- /usr/bin/python3 tests/python/tiny_cnn.py

Prints "Epoch N/3 loss L val_loss V" per epoch and exits 0. Uses Debian's python3-torch.
"""

import os
import sys

try:
    import wattprint
except ImportError:  # run from a checkout without PYTHONPATH: the module next to the tests
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "python"))
    import wattprint

import torch
from torch import nn

EPOCHS = 3
TRAIN_BATCHES = 4
EVAL_BATCHES = 2
BATCH_SIZE = 32


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 8x8x8
            nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16x4x4
        )
        self.classifier = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(1)
    train = [(torch.randn(BATCH_SIZE, 1, 16, 16, generator=generator),
              torch.randint(0, 10, (BATCH_SIZE,), generator=generator)) for _ in range(TRAIN_BATCHES)]
    held_out = [(torch.randn(BATCH_SIZE, 1, 16, 16, generator=generator),
                 torch.randint(0, 10, (BATCH_SIZE,), generator=generator)) for _ in range(EVAL_BATCHES)]
    model = TinyCnn()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_function = nn.CrossEntropyLoss()

    for epoch in range(1, EPOCHS + 1):
        with wattprint.phase("epoch"):
            with wattprint.phase("train"):
                model.train()
                total = 0.0
                for images, labels in train:
                    optimizer.zero_grad()
                    loss = loss_function(model(images), labels)
                    loss.backward()
                    optimizer.step()
                    total += loss.item()
            with wattprint.phase("eval"):
                model.eval()
                with torch.no_grad():
                    val_loss = sum(loss_function(model(images), labels).item() for images, labels in held_out)
            print("Epoch %d/%d loss %.4f val_loss %.4f"
                  % (epoch, EPOCHS, total / TRAIN_BATCHES, val_loss / EVAL_BATCHES), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
