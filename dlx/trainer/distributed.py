"""Training on several processes through Lightning's DDP and FSDP strategies, with dlx's own child command.

Lightning starts the extra processes of a node by running the script again (`sys.argv`), and under Hydra it
adds `hydra.run.dir=...`: every child would compose the config again, make its own run directory, and inside
a multirun (`-m`) run the whole sweep again. Here the strategies keep Lightning's launcher, environment
variables, process group and observer, and change only the command a child runs:
`python -m dlx.train.worker SPEC`, where SPEC holds the resolved config of the run being trained. A child
never sees Hydra, never makes a directory, and joins the fit of the one run its parent is training.

Only global rank zero writes (run directory, checkpoints, metrics.csv, report); see dlx.train.run.
"""

import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from lightning.pytorch.strategies import DDPStrategy, FSDPStrategy
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

from dlx.config.errors import ConfigError

# What Lightning's launcher puts in this process's environment for its children; restored after the fit, so
# the next run in this process (a multirun job, a test) starts a group of its own.
LAUNCH_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE", "OMP_NUM_THREADS")


class WorkerLauncher(_SubprocessScriptLauncher):
    """Lightning's launcher for one node, whose children run dlx's worker instead of the command line."""

    spec: Path | None = None  # set by `write_worker_spec` before the fit

    def _call_children_scripts(self) -> None:
        self._check_can_spawn_children()
        if self.spec is None and self.num_processes > 1:
            raise RuntimeError("dlx: the run's worker spec was not written before the fit")
        self.procs = []
        env = self.cluster_environment
        os.environ["MASTER_ADDR"] = env.main_address
        os.environ["MASTER_PORT"] = str(env.main_port)
        os.environ["NODE_RANK"] = str(env.node_rank())
        os.environ["LOCAL_RANK"] = str(env.local_rank())
        os.environ["WORLD_SIZE"] = str(self.num_processes * self.num_nodes)
        import subprocess

        for local_rank in range(1, self.num_processes):
            child_env = {**os.environ, "LOCAL_RANK": str(local_rank)}
            command = [sys.executable, "-m", "dlx.train.worker", str(self.spec)]
            self.procs.append(subprocess.Popen(command, env=child_env))

    # launch() stays Lightning's: the observer (a child that fails takes the others down) and cores // processes
    # torch threads each (2 processes of 2 threads on 2 cores took 0.7-2 s a digits epoch here, against 0.16 s)


class DlxDDPStrategy(DDPStrategy):
    def _configure_launcher(self) -> None:
        self._launcher = WorkerLauncher(self.cluster_environment, self.num_processes, self.num_nodes)


class DlxFSDPStrategy(FSDPStrategy):
    def _configure_launcher(self) -> None:
        if not self.cluster_environment.creates_processes_externally:
            self._launcher = WorkerLauncher(self.cluster_environment, self.num_processes, self.num_nodes)


def make_strategy(name: str):
    """name: trainer.strategy (ddp, fsdp); Lightning picks the backend: gloo on CPUs, nccl on GPUs."""
    return {"ddp": DlxDDPStrategy, "fsdp": DlxFSDPStrategy}[name]()


def is_distributed(trainer) -> bool:
    """Trained through dlx's DDP or FSDP strategy (even with one process: it still starts a process group)."""
    return isinstance(trainer.strategy, (DlxDDPStrategy, DlxFSDPStrategy))


# ---- before any process starts: what cannot work here, said in one line ----------------------------------


def check_devices(strategy: str, accelerator: str, devices, num_nodes: int, sync_batchnorm: bool) -> None:
    import torch

    gpus = torch.cuda.device_count()
    wants_gpu = accelerator in ("gpu", "cuda")
    if wants_gpu and gpus == 0:
        if strategy == "auto":
            raise ConfigError("trainer.accelerator", f"{accelerator} needs a CUDA GPU, and this machine has none; "
                              "trainer=cpu trains on the CPU")  # fmt: skip
        hint = "trainer=ddp_cpu trains on CPU processes" if strategy == "ddp" else "FSDP shards over CUDA GPUs only"
        raise ConfigError("trainer.strategy", f"{strategy} on accelerator={accelerator} needs CUDA GPUs, and this "
                          f"machine has none; {hint}")  # fmt: skip
    if isinstance(devices, int) and not isinstance(devices, bool):
        have, what = (gpus, "CUDA GPUs") if wants_gpu else (os.cpu_count() or 1, "CPU cores")
        on_cpu = accelerator == "cpu" or (accelerator == "auto" and gpus == 0)
        if (wants_gpu or on_cpu) and devices > have:
            unit = "one process per device" if on_cpu else "one process per GPU"
            raise ConfigError("trainer.devices", f"{devices}: this machine has {have} {what} ({unit}); use 1 to {have}")
    if sync_batchnorm and not wants_gpu and not (accelerator == "auto" and gpus > 0):
        raise ConfigError("trainer.sync_batchnorm", "needs CUDA GPUs (torch's SyncBatchNorm has no CPU kernel); "
                          "on CPU processes set it to false")  # fmt: skip
    if num_nodes > 1:
        check_master(num_nodes)


def cluster_manages_ranks() -> bool:
    """SLURM, torchelastic, LSF or MPI set the ranks and the master address themselves."""
    from lightning.fabric.plugins.environments import (
        LSFEnvironment,
        MPIEnvironment,
        SLURMEnvironment,
        TorchElasticEnvironment,
    )

    return any(env.detect() for env in (SLURMEnvironment, TorchElasticEnvironment, LSFEnvironment, MPIEnvironment))


def check_master(num_nodes: int) -> None:
    """num_nodes > 1 by hand (no cluster manager): every node needs the same MASTER_ADDR and MASTER_PORT, its
    own NODE_RANK, and node 0 must be reachable; torch would otherwise wait 30 minutes before saying so."""
    if cluster_manages_ranks():
        return
    missing = [v for v in ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK") if not os.environ.get(v)]
    if missing:
        raise ConfigError("trainer.num_nodes", f"{num_nodes} nodes need {', '.join(missing)} set on every node "
                          "(MASTER_ADDR, MASTER_PORT: node 0's address and a free port; NODE_RANK: 0 to "
                          f"{num_nodes - 1}), or a cluster manager such as SLURM")  # fmt: skip
    addr, port, node = os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"], os.environ["NODE_RANK"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("trainer.num_nodes", f"MASTER_PORT={port} is not a port number (1-65535)")
    if not node.isdigit() or int(node) >= num_nodes:
        raise ConfigError("trainer.num_nodes", f"NODE_RANK={node}: use 0 to {num_nodes - 1} for {num_nodes} nodes")
    try:
        socket.getaddrinfo(addr, int(port))
    except OSError as e:
        raise ConfigError("trainer.num_nodes", f"MASTER_ADDR={addr} does not resolve ({e.strerror or e})") from None
    if int(node) == 0:
        check_local_address(addr)
    else:
        wait_for_master(addr, int(port))


def check_local_address(addr: str) -> None:
    """Node 0 serves the rendezvous at MASTER_ADDR: it must be an address of this machine."""
    with socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((addr, 0))
        except OSError:
            raise ConfigError("trainer.num_nodes", f"NODE_RANK=0 runs here, but MASTER_ADDR={addr} is not an "
                              "address of this machine; set it to node 0's address") from None  # fmt: skip


def wait_for_master(addr: str, port: int) -> None:
    """Node 0 opens MASTER_PORT once its process group starts: poll until then, DLX_MASTER_WAIT_S (120 s) at most."""
    wait = float(os.environ.get("DLX_MASTER_WAIT_S", "120"))
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection((addr, port), timeout=2):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise ConfigError("trainer.num_nodes", f"nothing answers at MASTER_ADDR={addr} MASTER_PORT={port} "
                                  f"after {wait:g} s; start NODE_RANK=0 first, or check the address, the "
                                  "port and the firewall (DLX_MASTER_WAIT_S sets the wait)") from None  # fmt: skip
            time.sleep(0.2)


# ---- the run's children: what they build, and the process after the fit ------------------------------------


def write_worker_spec(trainer, cfg: dict, choices: dict, resume_from: Path | None) -> Path | None:
    """The spec a child builds the same experiment from; None when this process starts no children."""
    launcher = getattr(trainer.strategy, "_launcher", None)
    if not isinstance(launcher, WorkerLauncher) or launcher.num_processes < 2:
        return None
    folder = Path(tempfile.mkdtemp(prefix="dlx-ddp-"))
    spec = folder / "spec.json"
    resume = str(resume_from) if resume_from else None
    spec.write_text(json.dumps({"cfg": cfg, "choices": dict(choices), "resume_from": resume, "cwd": os.getcwd()}))
    launcher.spec = spec
    return spec


def launch_environment() -> dict:
    import torch

    return {"threads": torch.get_num_threads(), "variables": {v: os.environ.get(v) for v in LAUNCH_VARIABLES}}


def end_of_fit(saved_environment: dict) -> None:
    """After a distributed fit: leave the process group and put back the environment the launcher changed."""
    import torch
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    torch.set_num_threads(saved_environment["threads"])
    for name, value in saved_environment["variables"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
