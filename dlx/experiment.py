"""The one place that turns a composed config into (data module, LightningModule, Trainer).

Every config error surfaces here, before `open_run_dir` is called, so a bad config
never leaves a run directory behind.
"""

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlx.config.builder import build, options
from dlx.config.errors import ConfigError
from dlx.config.validate import validate_config
from dlx.run_dir import write_json


@dataclass
class Experiment:
    data: Any  # LightningDataModule
    module: Any  # dlx.module.Classifier
    trainer: Any  # lightning.pytorch.Trainer
    run_dir: Path
    resume_from: Path | None = None  # last.ckpt of the run being continued (dlx train resume=RUN)
    cfg: Mapping | None = None  # the resolved config it was built from (a distributed fit's children rebuild it)
    choices: Mapping | None = None

    @property
    def rank_zero(self) -> bool:
        """The process that writes the run (every process of a single-process run)."""
        return self.trainer.global_rank == 0


def build_experiment(cfg: Mapping, choices: Mapping[str, str], open_run_dir: Callable[[], Path]) -> Experiment:
    """cfg: the resolved config as plain containers; choices: group -> option (for messages)."""
    validate_config(cfg)
    check_monitored_metrics(cfg)
    # the data first: its errors (a split that cannot be stratified, a damaged file) come before Lightning's
    # 3-4 s import. It draws from its own seeded generators, so seeding after it changes no number.
    data = build("data", cfg["data"], seed=data_seed(cfg))
    quiet_lightning()
    import lightning.pytorch as L

    from dlx.aug import compose
    from dlx.module import Classifier
    from dlx.reg import combine

    L.seed_everything(cfg["seed"], workers=True, verbose=False)
    epochs = cfg["trainer"]["max_epochs"]
    regs = {name: build(f"reg.{name}", node, total_epochs=epochs) for name, node in options(cfg.get("reg"))}
    reg = combine(list(regs.values()))
    check_batch_mixers(regs, data, choices)
    imbalance = build("imbalance", cfg["imbalance"]) if "_target_" in (cfg.get("imbalance") or {}) else None
    if imbalance is not None:
        data.use_imbalance(imbalance)
    net = build_model(cfg["model"], reg.model_kwargs, data, choices)
    check_one_sample_batches(net, data)
    sched = cfg.get("sched") or {}

    def make_optimizer(params):
        return build("optim", cfg["optim"], params=params)

    def make_scheduler(optimizer, steps_per_epoch: int):
        return build("sched", sched, optimizer=optimizer, total_epochs=epochs, steps_per_epoch=steps_per_epoch)

    has_scheduler = "_target_" in sched
    trial = make_optimizer(list(net.parameters()))  # fail now on a bad optimizer or schedule, not mid-fit
    if has_scheduler:
        make_scheduler(trial, steps_per_epoch=1)
    augment = compose([build(f"aug.{name}", node) for name, node in options(cfg.get("aug"))])
    check_augment(augment, data, choices)
    teacher = None
    if (cfg.get("distill") or {}).get("teacher"):
        from dlx.distill import load_teacher

        spec = build("distill", cfg["distill"])
        teacher = load_teacher(spec, Path(cfg.get("runs_dir", "runs")), data, choices.get("data", "?"))
    module = Classifier(
        net, make_optimizer, make_scheduler if has_scheduler else None, augment=augment, reg=reg, imbalance=imbalance,
        teacher=teacher,
    )  # fmt: skip
    loggers = [build(f"logger.{name}", node) for name, node in options(cfg.get("logger"))]
    trainer = build("trainer", cfg["trainer"], callbacks=[*loggers, *reg.callbacks])
    check_batch_limits(cfg["trainer"], data)
    check_batch_split(data.batch_size, trainer.world_size)

    if trainer.global_rank == 0:
        run_dir = open_run_dir()
        write_json(run_dir / "data.json", data_record(data))
    else:  # another process of a distributed fit: rank zero writes the run; anything written here is thrown away
        run_dir = scratch_dir()
    for callback in trainer.callbacks:
        if hasattr(callback, "use_run_dir"):
            callback.use_run_dir(run_dir)
    return Experiment(data, module, trainer, run_dir, cfg=cfg, choices=dict(choices))


def scratch_dir() -> Path:
    import atexit
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="dlx-rank-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def data_seed(cfg: Mapping) -> int:
    """The seed of the split and the batch order: data_seed when set (runs of one split), else seed."""
    chosen = cfg.get("data_seed")
    return cfg["seed"] if chosen is None else chosen


def quiet_lightning() -> None:
    import lightning.pytorch  # noqa: F401  (it sets its loggers to INFO on import; lower them after)

    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for pattern in (
        ".*LeafSpec.*",
        ".*does not have many workers.*",
        ".*smaller than the logging interval.*",
        ".*exists and is not empty.*",  # a resumed run saves into its own checkpoints/ again, on purpose
    ):
        warnings.filterwarnings("ignore", message=pattern)


def data_record(data) -> dict:
    """RUN/data.json: the splits, class counts, what cleaning removed and the normalization statistics."""
    norm = data.normalizer.state_dict()
    return {
        **data.info,
        "class_names": data.class_names,
        "in_shape": list(data.in_shape),
        "normalization": {"method": norm["method"], "shift": norm["shift"].tolist(), "scale": norm["scale"].tolist()},
    }


def build_model(node: Mapping, reg_kwargs: Mapping, data, choices: Mapping[str, str]):
    """Build the net with shape and class count from the data, then prove it takes a batch of that data."""
    import inspect

    import torch

    from dlx.config.validate import import_target

    model, data_name = choices.get("model", "?"), choices.get("data", "?")
    node = dict(node)
    accepted = inspect.signature(import_target(node["_target_"], "model._target_")).parameters
    for key, value in reg_kwargs.items():
        if key not in accepted:
            raise ConfigError("reg", f"model={model} has no '{key}' option, so this regularizer cannot apply")
        node[key] = value
    net = build("model", node, in_shape=data.in_shape, num_classes=data.num_classes)
    x = data.sample_batch(2)
    try:
        net.eval()
        with torch.no_grad():
            out = net(x)
        net.train()
    except RuntimeError as e:
        raise ConfigError(
            "model",
            f"model={model} cannot take data={data_name} input of shape {tuple(x.shape[1:])}: {str(e).splitlines()[0]}"
            + ("; tables (one feature vector per sample) train with model=mlp" if x.dim() == 2 else ""),
        ) from None
    if tuple(out.shape) != (2, data.num_classes):
        raise ConfigError(
            "model",
            f"model={model} gives outputs of shape {tuple(out.shape[1:])} for data={data_name}; "
            f"expected ({data.num_classes},) class scores",
        )
    return net


def check_augment(augment, data, choices: Mapping[str, str]) -> None:
    """Run the augmentation once on a data batch, so an op that cannot take this data fails before training."""
    if augment is None:
        return
    try:
        augment(data.sample_batch(2).clone())
    except (ValueError, RuntimeError) as e:
        raise ConfigError("aug", f"data={choices.get('data', '?')}: {str(e).splitlines()[0]}") from None


def check_batch_mixers(regs: Mapping, data, choices: Mapping[str, str]) -> None:
    """Mix one data batch with each reg option's mixer (cutmix, mixup), so one that cannot take this data (cutmix on
    a table) fails before training, as an augmentation does. The random streams are put back: no number changes."""
    import torch

    mixers = [(name, mixer) for name, r in regs.items() for mixer in r.batch_mixers]
    if not mixers:
        return
    x = data.sample_batch(2).clone()
    target = torch.full((len(x), data.num_classes), 1 / data.num_classes, device=x.device)  # (2, K) probabilities
    with torch.random.fork_rng(devices=[x.device.index or 0] if x.is_cuda else []):
        for name, mixer in mixers:
            try:
                mixer(x, target)
            except (ValueError, RuntimeError) as e:
                raise ConfigError(f"reg.{name}", f"data={choices.get('data', '?')}: {str(e).splitlines()[0]}") from None


def check_one_sample_batches(net, data) -> None:
    """Batch norm cannot train on a batch of one sample: refuse a batch size that makes one (every batch, or the
    last of each epoch) here, rather than fail in the middle of a run."""
    import copy

    size, batch = train_size(data), data.batch_size
    if size % batch != 1 and batch != 1:
        return
    try:
        copy.deepcopy(net).train()(data.sample_batch(1))  # a copy: training mode updates batch-norm statistics
        return
    except (ValueError, RuntimeError) as e:
        reason = str(e).splitlines()[0]
    if batch == 1:
        raise ConfigError("data.batch_size", f"1 cannot train this model ({reason}); use 2 or more")
    better = next((b for b in range(batch + 1, size + 2) if size % b != 1), batch + 1)
    raise ConfigError(
        "data.batch_size",
        f"{batch} leaves a last batch of one sample ({size} training samples), which this model cannot train on "
        f"({reason}); use another, e.g. {better}",
    )


def train_size(data) -> int:
    """Training samples per epoch (after imbalance resampling): what the batches of an epoch split."""
    loader = data.train_dataloader()
    return loader.size if hasattr(loader, "size") else len(loader.sampler)


def check_monitored_metrics(cfg: Mapping) -> None:
    """A reg option that watches a val metric (early stopping) needs validation: Lightning would fail only at
    the first epoch's end."""
    if cfg["trainer"].get("limit_val_batches", 1.0) != 0:
        return
    for name, node in options(cfg.get("reg")):
        if "monitor" in node:
            raise ConfigError(f"reg.{name}.monitor", f"{node['monitor']} needs validation, and "
                              f"trainer.limit_val_batches=0 turns it off; validate, or drop reg={name}")  # fmt: skip


def check_batch_split(batch_size: int, processes: int) -> None:
    """A distributed fit splits each batch evenly over its processes."""
    if batch_size % processes:
        lower = batch_size - batch_size % processes
        raise ConfigError("data.batch_size", f"{batch_size} does not split evenly over {processes} processes; use a "
                          f"multiple of {processes}, e.g. {lower or processes} or {lower + processes}")  # fmt: skip


def check_batch_limits(trainer_cfg: Mapping, data) -> None:
    """trainer.limit_*_batches as a fraction must leave a batch; Lightning would only say so once training starts."""
    for split, loader in (("train", data.train_dataloader()), ("val", data.val_dataloader())):
        limit, batches = trainer_cfg.get(f"limit_{split}_batches", 1.0), len(loader)
        if isinstance(limit, float) and limit > 0 and int(batches * limit) < 1:
            raise ConfigError(
                f"trainer.limit_{split}_batches",
                f"{limit} of {batches} {split} batches is less than one; use at least {1 / batches:.3g}, or a count",
            )
