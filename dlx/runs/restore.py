"""A finished run, rebuilt for use: its config, its best checkpoint, its net with the trained weights.

    run = restore_run(Path("runs/cnn-digits/2026-11-23_15-20-01"))
    run.net(x)               # x normalized with run.normalizer, shaped like run.in_shape

Loads with weights_only=True: a checkpoint cannot run code. The config's `_target_`s must lie in the trusted
packages (dlx.config.trust) unless trust_config=True (--trust-config). `init_from` is dropped from the model
config: the checkpoint already holds the trained weights, the transfer source is not needed again.
"""

from dataclasses import dataclass
from pathlib import Path

from dlx.config.errors import ConfigError


class DataStateView:
    """class_names and in_shape, read from a data module's state (a checkpoint's, or an exported model's JSON)."""

    data_state: dict

    @property
    def class_names(self) -> list[str]:
        return self.data_state["class_names"]

    @property
    def in_shape(self) -> tuple[int, ...]:
        return tuple(self.data_state["in_shape"])


@dataclass
class RestoredRun(DataStateView):
    run_dir: Path
    cfg: dict  # the run's resolved config
    choices: dict  # group -> option, as the run was composed
    checkpoint: Path
    net: object  # torch.nn.Module in eval mode, the checkpoint's weights
    data_state: dict  # the data module's state_dict: normalization, class_names, encoding, in_shape

    @property
    def normalizer(self):
        from dlx.data.normalize import Normalizer

        return Normalizer.from_state(self.data_state["normalization"])


def read_config(run_dir: Path, *, trust_config: bool) -> tuple[dict, dict]:
    """(resolved config, group choices) as saved by `dlx train`; trust_config=False refuses, before anything is
    imported, a config naming a `_target_` outside the trusted packages."""
    from omegaconf import OmegaConf

    from dlx.config.trust import check_targets

    path = run_dir / "config.yaml"
    try:
        cfg = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except FileNotFoundError:
        raise ConfigError("RUN", f"{run_dir} has no config.yaml") from None
    except Exception as e:
        raise ConfigError("RUN", f"{path} cannot be read: {str(e).splitlines()[0]}") from None
    missing = [k for k in ("seed", "data", "model", "trainer") if not isinstance(cfg, dict) or k not in cfg]
    if missing:
        raise ConfigError("RUN", f"{path} has no {', '.join(missing)}: not a config saved by dlx train")
    if not trust_config:
        check_targets(cfg, path)
    from dlx.runs.table import load_yaml, read_choices

    overrides = load_yaml(run_dir / "overrides.yaml")
    return cfg, read_choices(run_dir, [str(o) for o in overrides] if isinstance(overrides, list) else [])


def load_checkpoint(path: Path) -> dict:
    from dlx.checkpoint import read_checkpoint

    if not path.is_file():
        raise ConfigError("RUN", f"{path.parent.parent} has no checkpoint ({path.name} is missing): did it train?")
    ckpt = read_checkpoint(path, "RUN")
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("state_dict"), dict):
        raise ConfigError("RUN", f"{path} holds no state_dict: not a checkpoint saved by dlx train")
    return ckpt


def data_state(ckpt: dict, path: Path) -> dict:
    """The data module's part of a checkpoint (saved under its class name)."""
    for value in ckpt.values():
        if isinstance(value, dict) and "normalization" in value and "class_names" in value:
            return value
    raise ConfigError("RUN", f"{path} holds no data statistics (a checkpoint from before dlx saved them)")


def build_net(cfg: dict, choices: dict, in_shape: tuple[int, ...], num_classes: int):
    """The run's model, built from its config as `dlx train` built it (regularizers that shape the model included)."""
    from dlx.config.builder import build, options
    from dlx.reg import combine

    epochs = cfg["trainer"]["max_epochs"]
    reg = combine([build(f"reg.{name}", node, total_epochs=epochs) for name, node in options(cfg.get("reg"))])
    node = {k: v for k, v in cfg["model"].items() if k != "init_from"}
    return build("model", {**node, **reg.model_kwargs}, in_shape=in_shape, num_classes=num_classes)


def restore_run(run_dir: Path, which: str = "best", *, trust_config: bool = False) -> RestoredRun:
    cfg, choices = read_config(run_dir, trust_config=trust_config)
    path = run_dir / "checkpoints" / f"{which}.ckpt"
    if which == "best" and not path.is_file():
        path = run_dir / "checkpoints" / "last.ckpt"
    if not path.is_file() and (run_dir / "model.ts").is_file():  # dlx compress method=quantize: no checkpoint
        raise ConfigError("RUN", f"{run_dir} is a quantized model (model.ts, from dlx compress): this command takes "
                          f"a trained or pruned run, such as its parent {cfg.get('parent', '?')}; load model.ts with "
                          "torch.jit.load (normalized inputs in, logits out)")  # fmt: skip
    ckpt = load_checkpoint(path)
    state = data_state(ckpt, path)
    net = build_net(cfg, choices, tuple(state["in_shape"]), len(state["class_names"]))
    if not hasattr(net, "load_state_dict"):  # a trusted config (--trust-config) can still name something else
        raise ConfigError("model._target_", f"{cfg['model']['_target_']} built a {type(net).__name__}, not a network")
    weights = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    try:
        net.load_state_dict(weights)
    except RuntimeError as e:
        raise ConfigError("RUN", f"{path} does not fit the run's model: {str(e).splitlines()[0]}") from None
    net.eval()
    return RestoredRun(run_dir, cfg, choices, path, net, state)
