"""The hand-written loop behind the memory figure of bench/default_run.py: what `dlx train` does by default
(CNN on digits, 70/15/15 stratified split, standardized, Adam + cosine, batches of 64, validation each
epoch, 30 epochs), written with torch and scikit-learn only, so its process imports neither Lightning nor
Hydra. Prints its test accuracy, then its peak RSS in KiB on the last line.

    .venv/bin/python bench/hand_digits.py
"""

import resource

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from dlx.model.cnn import cnn  # the same net as model=cnn (a torch module; dlx.model imports torch only)

EPOCHS, BATCH, LR = 30, 64, 2e-3  # conf/trainer, conf/data/digits, conf/optim/adam


def main() -> None:
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32).view(-1, 1, 8, 8)
    y = torch.tensor(y)
    rest, test = train_test_split(range(len(y)), test_size=0.15, stratify=y, random_state=0)
    train, val = train_test_split(rest, test_size=0.15 / 0.85, stratify=y[rest], random_state=0)
    mean, std = x[train].mean(), x[train].std()
    x = (x - mean) / std
    net = cnn(in_shape=(1, 8, 8), num_classes=10)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, EPOCHS)
    train = torch.tensor(train)
    for _ in range(EPOCHS):
        net.train()
        order = train[torch.randperm(len(train))]
        for i in range(0, len(order), BATCH):
            idx = order[i : i + BATCH]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        scheduler.step()
        net.eval()
        with torch.inference_mode():
            F.cross_entropy(net(x[val]), y[val])
    with torch.inference_mode():
        print(f"test accuracy {(net(x[test]).argmax(1) == y[test]).float().mean():.4f}")
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main()
