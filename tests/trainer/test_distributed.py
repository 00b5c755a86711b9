"""Training on several processes: DDP on CPU processes (gloo), two nodes simulated on 127.0.0.1, DDP jobs in a
multirun, and the errors said before any process starts.

The fits run as `dlx train` subprocesses: a failing DDP child makes Lightning's observer kill its parent, which
must not be the test session.
"""

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dlx.data.tensor_data import TensorBatches
from tests.conftest import dlx_env, run_dirs, run_dlx, run_in_process

EPOCHS = "trainer.max_epochs=5"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report(run: Path) -> dict:
    return json.loads((run / "report.json").read_text())


def only_run(runs: Path) -> Path:
    [run] = run_dirs(runs)
    return run


def scratch_left(tmp: Path) -> list[Path]:
    return [p for p in tmp.iterdir() if p.name.startswith(("dlx-rank-", "dlx-ddp-"))]


# ---- shards: what each process trains and evaluates ---------------------------------------------------------


def test_eval_shards_cover_every_sample_once_with_equal_lengths():
    x, y = torch.arange(11.0).unsqueeze(1), torch.arange(11)
    shards = [TensorBatches(x, y, 2, shuffle=False, shard=(r, 3)) for r in range(3)]
    assert len({len(s) for s in shards}) == 1, "every process runs as many batches (DDP steps together)"
    labels = [torch.cat([b[1] for b in s]) for s in shards]
    assert {len(lab) for lab in labels} == {4}
    real = torch.cat([lab[lab >= 0] for lab in labels])
    assert sorted(real.tolist()) == list(range(11)), "each sample once; the padding is labelled -1"
    assert sum(int((lab < 0).sum()) for lab in labels) == 1


def test_training_shards_split_one_order_and_each_batch():
    x, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    shards = [TensorBatches(x, y, 2, shuffle=True, seed=3, shard=(r, 2)) for r in range(2)]
    whole = torch.cat([b[1] for b in TensorBatches(x, y, 4, shuffle=True, seed=3)])
    per_rank = [[b[1] for b in s] for s in shards]
    assert [len(p) for p in per_rank] == [3, 3]
    # step k of the two processes together trains batch k of the single-process order (batch 4 = 2 x 2)
    for k in range(2):
        together = torch.stack([per_rank[0][k], per_rank[1][k]], 1).flatten()
        assert together.tolist() == whole[4 * k : 4 * k + 4].tolist()
    assert sorted(torch.cat([torch.cat(p) for p in per_rank]).tolist()) == list(range(10))


# ---- end to end ----------------------------------------------------------------------------------------------


def test_ddp_cpu_trains_digits_into_one_run_directory_as_one_process_does(workdir: Path, tmp_path: Path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp)}
    ddp = run_dlx("train", "trainer=ddp_cpu", "trainer.devices=2", EPOCHS, "trainer.progress=false",
                  "runs_dir=ddp", cwd=workdir, env=env)  # fmt: skip
    assert ddp.returncode == 0, ddp.stderr
    assert "rank 0 writes the run" not in ddp.stderr, "one machine: its other process has nothing to tell"
    single = run_in_process("train", EPOCHS, "trainer.progress=false", "runs_dir=single", cwd=workdir)
    assert single.returncode == 0, single.stderr

    run = only_run(workdir / "ddp")  # one run directory, not one per process
    assert sorted(p.name for p in (workdir / "ddp").iterdir()) == ["cnn-digits", "latest"]
    assert (run / "status").read_text().startswith("completed")
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    with open(run / "metrics.csv") as f:
        epochs = [int(r["epoch"]) for r in csv.DictReader(f)]
    assert epochs == list(range(5)), "one row per epoch: one writer"
    r, s = report(run), report(only_run(workdir / "single"))
    assert (r["processes"], r["strategy"], s["processes"]) == (2, "DlxDDPStrategy", 1)
    assert abs(r["test_acc"] - s["test_acc"]) <= 0.01, (r["test_acc"], s["test_acc"])
    assert r["test_acc"] > 0.95
    assert not scratch_left(tmp), "the other process's scratch directory and the spec are removed"

    # the validation accuracy that picked best.ckpt is over the whole val split (both shards, reduced):
    # evaluating best.ckpt on the val split in one process gives the same number
    val = run_in_process("eval", str(run), "split=val", cwd=workdir)
    assert val.returncode == 0, val.stderr
    evaluated = json.loads((run / "eval" / "val.json").read_text())["val_acc"]
    assert evaluated == pytest.approx(r["best_val_acc"], abs=1e-6)


def test_two_nodes_on_127_0_0_1_write_one_run_directory(workdir: Path):
    port = str(free_port())
    args = ["train", "trainer=ddp_cpu", "trainer.devices=1", "trainer.num_nodes=2", "trainer.max_epochs=3",
            "trainer.progress=false"]  # fmt: skip
    nodes = []
    for rank in (1, 0):  # node 1 first: it waits for node 0's rendezvous
        env = dlx_env({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "NODE_RANK": str(rank)})
        nodes.append(subprocess.Popen([str(Path(sys.executable).parent / "dlx"), *args], cwd=workdir, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
    outs = [p.communicate(timeout=240) for p in nodes]
    assert [p.returncode for p in nodes] == [0, 0], [o[1][-2000:] for o in outs]
    assert "process 1 of 2 done; rank 0 writes the run" in outs[0][1]
    run = only_run(workdir / "runs")
    assert report(run)["processes"] == 2
    assert (run / "status").read_text().startswith("completed")


def test_a_ddp_job_in_a_multirun_writes_one_directory_per_job(workdir: Path):
    # in this process: the sweep's second job must start a process group of its own after the first
    args = ["-m", "trainer=ddp_cpu", "seed=0,1", "trainer.max_epochs=1", "trainer.limit_train_batches=4"]
    done = run_in_process("train", *args, "trainer.progress=false", cwd=workdir)
    assert done.returncode == 0, done.stderr
    [sweep] = (workdir / "runs" / "multirun").iterdir()
    assert run_dirs(workdir / "runs") == [sweep / "0", sweep / "1"]
    assert [report(sweep / j)["processes"] for j in ("0", "1")] == [2, 2]
    assert sorted(p.name for p in (workdir / "runs").iterdir()) == ["latest", "multirun"]


# ---- errors before any process starts ------------------------------------------------------------------------


BAD = [
    (["trainer=ddp_cpu", "trainer.devices=512"], "trainer.devices: 512: this machine has"),
    (["trainer=ddp_cpu", "trainer.sync_batchnorm=true"], "trainer.sync_batchnorm: needs CUDA GPUs"),
    (["trainer=ddp_cpu", "data.batch_size=63"], "data.batch_size: 63 does not split evenly over 2 processes"),
    (["trainer.num_nodes=2"], "trainer.num_nodes: 2 nodes need MASTER_ADDR, MASTER_PORT, NODE_RANK set"),
    (["trainer.strategy=horovod"], "trainer.strategy: got 'horovod', expected one of 'auto', 'ddp', 'fsdp'"),
    (["-m", "hydra/launcher=ray_cluster"], "hydra/launcher: unknown option 'ray_cluster'; valid options: basic,"),
]
if not torch.cuda.is_available():
    BAD += [
        (
            ["trainer=ddp"],
            "trainer.strategy: ddp on accelerator=gpu needs CUDA GPUs, and this machine has none; "
            "trainer=ddp_cpu trains on CPU processes",
        ),  # fmt: skip
        (["trainer=fsdp"], "trainer.strategy: fsdp on accelerator=gpu needs CUDA GPUs"),
    ]


@pytest.mark.parametrize(("overrides", "message"), BAD, ids=[" ".join(o) for o, _ in BAD])
def test_a_setting_that_cannot_run_here_is_one_line_before_anything_starts(overrides, message, workdir: Path):
    done = run_in_process("train", *overrides, cwd=workdir)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (workdir / "runs").exists() or not run_dirs(workdir / "runs")


@pytest.fixture
def master_env(monkeypatch):
    def set_env(addr: str, port: int, node: int, wait: float = 1.0):
        for name, value in {"MASTER_ADDR": addr, "MASTER_PORT": str(port), "NODE_RANK": str(node),
                            "DLX_MASTER_WAIT_S": str(wait)}.items():  # fmt: skip
            monkeypatch.setenv(name, value)

    return set_env


def test_node_0_refuses_a_master_address_that_is_not_its_own(master_env, workdir: Path):
    master_env("192.0.2.1", free_port(), 0)  # TEST-NET-1: never an address of this machine
    done = run_in_process("train", "trainer=ddp_cpu", "trainer.devices=1", "trainer.num_nodes=2", cwd=workdir)
    assert done.returncode == 2
    assert "NODE_RANK=0 runs here, but MASTER_ADDR=192.0.2.1 is not an address of this machine" in done.stderr


def test_node_1_stops_when_no_master_answers(master_env, workdir: Path):
    port = free_port()
    master_env("127.0.0.1", port, 1, wait=0.5)
    done = run_in_process("train", "trainer=ddp_cpu", "trainer.devices=1", "trainer.num_nodes=2", cwd=workdir)
    assert done.returncode == 2
    assert f"nothing answers at MASTER_ADDR=127.0.0.1 MASTER_PORT={port} after 0.5 s; start NODE_RANK=0 first" in (
        done.stderr
    )
    assert not (workdir / "runs").exists()


def test_node_rank_outside_the_nodes_is_refused(master_env, workdir: Path):
    master_env("127.0.0.1", free_port(), 2)
    done = run_in_process("train", "trainer=ddp_cpu", "trainer.devices=1", "trainer.num_nodes=2", cwd=workdir)
    assert done.returncode == 2
    assert "NODE_RANK=2: use 0 to 1 for 2 nodes" in done.stderr


def test_environment_is_put_back_after_a_distributed_fit(workdir: Path):
    """A worker that ran the launcher leaves no LOCAL_RANK behind (the next job would think it is a child)."""
    from dlx.trainer.distributed import LAUNCH_VARIABLES, end_of_fit, launch_environment

    saved = launch_environment()
    os.environ.update({"LOCAL_RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "1"})
    torch.set_num_threads(1)
    end_of_fit(saved)
    assert {v: os.environ.get(v) for v in LAUNCH_VARIABLES} == saved["variables"]
    assert torch.get_num_threads() == saved["threads"]
