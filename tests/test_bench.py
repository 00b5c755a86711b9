"""bench/: the benchmarks keep running (a tiny CIFAR case end to end) and put each path on the right device.

Nothing here depends on timing: the figures are checked for being there and consistent, not for their size.
"""

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def with_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


def test_on_a_gpu_machine_the_cpu_targets_stay_on_the_cpu_and_the_cifar_case_moves(with_a_gpu):
    overhead = load("train_overhead")
    for label in ("digits cnn", "digits mlp", "mnist1d cnn"):
        case = overhead.CASES[label]
        device = overhead.case_device(case)
        assert device.type == "cpu", label
        assert "trainer.accelerator=cpu" in overhead.case_overrides(case, device, None, 2000)
    cifar = overhead.CASES["cifar resnet"]
    device = overhead.case_device(cifar)
    assert device.type == "cuda"
    extra = overhead.case_overrides(cifar, device, "/data", 2000)
    assert "trainer.accelerator=gpu" in extra and "data.root=/data" in extra
    assert not any(o.startswith("data.subset=") for o in extra), "a GPU trains on all 50,000 images"


def test_a_gpu_run_of_the_cifar_case_gets_its_own_row_and_keeps_the_cpu_one(tmp_path: Path, monkeypatch):
    overhead, results = load("train_overhead"), load("results")
    assert overhead.row_name("cifar resnet", torch.device("cpu")) == "cifar resnet"
    assert overhead.row_name("cifar resnet", torch.device("cuda")) == "cifar resnet (GPU)"
    monkeypatch.setenv("DLX_BENCH_RESULTS", str(tmp_path / "results.json"))
    cpu_row = {"name": "cifar resnet", "ratio": 1.18, "device": "CPU, 2 threads"}
    results.save("train_overhead", [cpu_row], merge_key="name")
    results.save("train_overhead", [{"name": "cifar resnet (GPU)", "ratio": 1.02, "device": "H200"}], merge_key="name")
    saved = json.loads((tmp_path / "results.json").read_text())["train_overhead"]["rows"]
    assert [(row["name"], row["ratio"]) for row in saved] == [("cifar resnet", 1.18), ("cifar resnet (GPU)", 1.02)]


def test_without_a_gpu_the_cifar_case_trains_a_share_on_the_cpu():
    overhead = load("train_overhead")
    cifar = overhead.CASES["cifar resnet"]
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    device = overhead.case_device(cifar)
    assert device.type == "cpu"
    extra = overhead.case_overrides(cifar, device, "/data", 6000)
    assert "trainer.accelerator=cpu" in extra and "data.subset=0.100000" in extra  # 6,000 of 60,000


def test_the_default_run_is_kept_on_the_cpu_only_where_there_is_a_gpu(monkeypatch):
    default_run = load("default_run")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_run.train_args() == ["trainer.progress=false"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_run.train_args() == ["trainer.progress=false", "trainer.accelerator=cpu"]


def test_the_cifar_overhead_case_runs_end_to_end_and_keeps_the_other_cases_figures(tmp_path: Path):
    results = tmp_path / "results.json"
    earlier = {"name": "digits cnn", "hand_s_per_epoch": 0.04, "dlx_s_per_epoch": 0.041, "ratio": 1.025,
               "target": "<= 1.05", "verdict": "ok"}  # fmt: skip
    stale = {**earlier, "name": "cifar resnet", "ratio": 9.0}  # replaced in its place by the run
    rows = [earlier, stale]
    results.write_text(json.dumps({"train_overhead": {"date": "2026-01-01", "machine": {}, "rows": rows}}))
    env = {**os.environ, "DLX_BENCH_RESULTS": str(results)}
    args = ["--cases", "cifar resnet", "--cifar-epochs", "1", "--cifar-repeats", "1", "--cifar-samples", "300"]
    args += ["--cifar-written", "2000"]
    done = subprocess.run([sys.executable, str(BENCH / "train_overhead.py"), *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    saved = json.loads(results.read_text())["train_overhead"]["rows"]
    assert [row["name"] for row in saved] == ["digits cnn", "cifar resnet"], "rows keep their order"
    rows = {row["name"]: row for row in saved}
    assert rows["digits cnn"] == earlier, "a run of one case keeps the others' figures"
    assert rows["cifar resnet"]["ratio"] != stale["ratio"] and "date" in rows["cifar resnet"]
    cifar = rows["cifar resnet"]
    assert cifar["device"].startswith("CPU") and "training images" in cifar["device"]
    assert cifar["target"] == "none" and cifar["verdict"] == "recorded"
    assert cifar["hand_s_per_epoch"] > 0 and cifar["dlx_s_per_epoch"] > 0
    assert cifar["ratio"] == pytest.approx(cifar["dlx_s_per_epoch"] / cifar["hand_s_per_epoch"])
    assert cifar["same_kernel_ratio"] == pytest.approx(cifar["dlx_s_per_epoch"] / cifar["hand_same_kernel_s_per_epoch"])

    table = subprocess.run([sys.executable, str(BENCH / "table.py")], env=env, capture_output=True, text=True)
    assert table.returncode == 0, table.stderr
    assert "overhead vs hand-written loop, cifar resnet (CPU" in table.stdout
    assert "overhead vs hand-written loop, digits cnn | 0.0410 vs 0.0400 s/epoch = 1.02x" in table.stdout


def test_an_unknown_case_is_a_one_line_error():
    done = subprocess.run([sys.executable, str(BENCH / "train_overhead.py"), "--cases", "digits rnn"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 2
    cases = "digits cnn, digits mlp, mnist1d cnn, cifar resnet"
    assert f"--cases: no case 'digits rnn'; the cases are {cases}" in done.stderr
    assert "Traceback" not in done.stderr


def test_speed_options_can_measure_a_few_variants_and_always_keeps_the_baseline():
    speed = load("speed_options")
    chosen = speed.chosen_variants(speed.GPU_VARIANTS, ["compile", "precision=16-mixed"])
    assert list(chosen) == ["baseline (32-true)", "compile", "precision=16-mixed"]
    assert chosen["compile"] == ["trainer.compile=true"]
    assert speed.chosen_variants(speed.CPU_VARIANTS, None) == speed.CPU_VARIANTS
    with pytest.raises(SystemExit, match="no variant 'fp8'; valid: 'baseline \\(32-true\\)', 'precision=bf16-mixed'"):
        speed.chosen_variants(speed.CPU_VARIANTS, ["fp8"])


def test_a_gpu_torch_cannot_use_is_named_so_the_empty_gpu_rows_are_explained(monkeypatch):
    results = load("results")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(results.shutil, "which", lambda name: "/usr/bin/nvidia-smi" if name == "nvidia-smi" else None)
    warning = results.unused_gpu_warning()
    assert "NVIDIA GPU" in warning and "without CUDA" in warning and "GPU rows stay empty" in warning
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert results.unused_gpu_warning() == "", "torch sees the GPU"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(results.shutil, "which", lambda name: None)
    monkeypatch.setattr(results.Path, "exists", lambda self: False)
    assert results.unused_gpu_warning() == "", "no GPU at all"


def test_on_device_script_refuses_without_its_wheels_or_a_gpu_and_says_what_to_do(tmp_path: Path):
    """bench/on_device.sh, the one call of the lent GPU machine: its two refusals, each before any benchmark."""
    repo = tmp_path / "repo"
    (repo / "bench").mkdir(parents=True)
    (repo / "bench" / "on_device.sh").write_bytes((BENCH / "on_device.sh").read_bytes())
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PYTHON": sys.executable}
    env["DLX_DEVICE_SITE"] = str(tmp_path / "site")
    env.pop("DLX_DEVICE_CPU_OK", None)
    script = ["bash", str(repo / "bench" / "on_device.sh")]
    done = subprocess.run(script, env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "no wheels in .whl/: run make device-kit" in done.stderr

    # a wheel with no files stands in for the kit: the refusal comes from the GPU check after the install
    wheel = repo / ".whl" / "empty_kit-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as whl:
        whl.writestr("empty_kit-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: empty-kit\nVersion: 1.0\n")
        whl.writestr("empty_kit-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr("empty_kit-1.0.dist-info/RECORD", "")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the script would measure it")
    done = subprocess.run(script, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "torch sees no CUDA GPU here, so there are no GPU figures to measure" in done.stderr
    assert (tmp_path / "site" / "empty_kit-1.0.dist-info").is_dir(), "the carried wheels were installed first"
    assert not (tmp_path / "out" / "results.json").exists(), "no benchmark ran"
