"""report.json's metric functions, against values computed by hand or by scikit-learn."""

import csv
import time

import pytest
import torch
from sklearn.metrics import f1_score, precision_score, recall_score
from torch import nn

from dlx.train.report import (
    classification_metrics,
    convergence,
    evaluate_split,
    inference_latency,
    limit_batches,
    model_bytes,
    noise_robustness,
    read_val_accs,
)


def random_predictions(n: int = 300, k: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(k, (n,), generator=g)
    logits = torch.randn(n, k, generator=g) + 1.5 * nn.functional.one_hot(y, k)  # better than chance, not perfect
    return logits, y


def test_accuracy_and_averages_match_hand_and_sklearn():
    logits, y = random_predictions()
    m = classification_metrics(logits, y, 6)
    pred = logits.argmax(1)
    assert m["test_acc"] == pytest.approx((pred == y).float().mean().item(), abs=1e-6)
    top3 = (logits.topk(3, dim=1).indices == y[:, None]).any(1).float().mean().item()
    assert m["top3_acc"] == pytest.approx(top3, abs=1e-6) and m["top5_acc"] >= m["top3_acc"] >= m["test_acc"]
    for name, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        for average in ("macro", "weighted"):
            assert m[f"{name}_{average}"] == pytest.approx(fn(y, pred, average=average), abs=1e-6), (name, average)
    assert m["test_loss"] == pytest.approx(nn.functional.cross_entropy(logits, y).item())
    assert sum(map(sum, m["confusion_matrix"])) == len(y) and len(m["per_class"]["f1"]) == 6


def test_top_k_only_below_the_number_of_classes():
    logits, y = random_predictions(k=4)
    m = classification_metrics(logits, y, 4)
    assert "top3_acc" in m and "top5_acc" not in m
    assert "top3_acc" not in classification_metrics(logits[:, :3], y % 3, 3)


def test_convergence_from_a_known_history(tmp_path):
    history = [0.20, 0.50, 0.86, 0.90, 0.88, 0.90]  # 95% of the best (0.90) is 0.855: first reached at epoch 2
    assert convergence(history) == {"epoch_at_95pct_best_val_acc": 2, "epochs_to_best_val_acc": 4}
    assert convergence([]) == {"epoch_at_95pct_best_val_acc": None, "epochs_to_best_val_acc": None}
    path = tmp_path / "metrics.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_seconds"])
        for epoch, acc in enumerate(history):
            writer.writerow([epoch, 1.0, 0.5, 1.0, acc, 0.1, 0.01])
    assert read_val_accs(path) == history
    assert read_val_accs(tmp_path / "missing.csv") == [] and read_val_accs(None) == []


class Sleeper(nn.Module):
    """A 'net' whose forward takes 1 ms per sample: known latency, known throughput."""

    def forward(self, x):
        time.sleep(0.001 * len(x))
        return torch.zeros(len(x), 3)


def test_latency_percentiles_are_ordered_and_match_the_throughput():
    xs = [torch.zeros(8, 2), torch.zeros(8, 2), torch.zeros(4, 2)]
    lat = inference_latency(Sleeper(), xs, min_timed=12)
    assert 0 < lat["latency_ms_per_batch_p50"] <= lat["latency_ms_per_batch_p95"]
    assert 0 < lat["latency_ms_per_sample_p50"] <= lat["latency_ms_per_sample_p95"]
    assert 1.0 <= lat["latency_ms_per_sample_p50"] < 3.0  # sleep never returns early
    assert lat["latency_ms_per_batch_p50"] >= 8.0  # most batches hold 8 samples
    assert lat["throughput_samples_per_s"] == pytest.approx(1000 / lat["latency_ms_per_sample_p50"], rel=0.25)
    assert lat["inference_ms_per_sample"] == lat["latency_ms_per_sample_p50"]


def centroid_data(n: int = 400, k: int = 4, d: int = 16) -> tuple[nn.Module, list]:
    """Classes are 3 * e_c plus unit noise; a linear net scoring x . (3 * e_c) separates them well."""
    g = torch.Generator().manual_seed(1)
    y = torch.arange(n) % k
    x = 3 * nn.functional.one_hot(y, d).float() + 0.5 * torch.randn(n, d, generator=g)
    net = nn.Linear(d, k, bias=False)
    with torch.no_grad():
        net.weight.copy_(3 * torch.eye(k, d))
    return net, [(x[i : i + 64], y[i : i + 64]) for i in range(0, n, 64)]


def test_noise_robustness_is_seeded_and_falls_to_chance():
    net, batches = centroid_data()
    clean = classification_metrics(torch.cat([net(x) for x, _ in batches]), torch.cat([y for _, y in batches]), 4)
    acc = noise_robustness(net, batches, sigmas=(0.0, 0.5, 1000.0))
    assert list(acc) == ["0.0", "0.5", "1000.0"]
    assert acc["0.0"] == pytest.approx(clean["test_acc"], abs=1e-6) and acc["0.0"] > 0.95
    assert acc["1000.0"] < 0.4  # chance is 0.25
    assert noise_robustness(net, batches, sigmas=(0.0, 0.5, 1000.0)) == acc  # same seed, same noise
    assert noise_robustness(net, [(x.long(), y) for x, y in batches]) == {}  # token ids get no noise


def test_evaluate_split_takes_a_one_pass_iterable_and_reports_everything():
    net, batches = centroid_data()
    result = evaluate_split(net, iter(batches), num_classes=4)
    assert result["test_acc"] == pytest.approx(result["noise_robustness"]["0.0"], abs=1e-6)
    assert list(result["noise_robustness"]) == ["0.0", "0.1", "0.2", "0.5"]
    for key in ("top3_acc", "f1_weighted", "latency_ms_per_batch_p95", "throughput_samples_per_s"):
        assert result[key] > 0, key
    assert not net.training


def test_model_bytes_is_the_size_of_the_saved_state_dict(tmp_path):
    net = nn.Sequential(nn.Linear(10, 20), nn.BatchNorm1d(20), nn.Linear(20, 3))
    torch.save(net.state_dict(), tmp_path / "model.pt")
    assert model_bytes(net) == (tmp_path / "model.pt").stat().st_size


def test_limit_batches_takes_a_count_or_a_fraction():
    batches = [(i, i) for i in range(10)]
    assert limit_batches(iter(batches), 2) == batches[:2]
    assert limit_batches(batches, 1.0) == batches and limit_batches(batches, 0.25) == batches[:2]
    assert limit_batches(batches, 0.01) == batches[:1]
