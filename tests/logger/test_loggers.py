"""logger=[csv,tensorboard,mlflow,wandb]: one real run, then each backend's output read back with its own reader
and compared with metrics.csv and report.json.  No network: MLflow's file store and W&B offline, both in tmp."""

import csv
import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from dlx.config.builder import build as build_node
from dlx.config.errors import ConfigError
from tests.conftest import build, compose_config

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("logger-loggers")

FAST = [
    "trainer.max_epochs=2",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
    "trainer.progress=false",
]
EPOCHS = 2


def offline_env(mp: pytest.MonkeyPatch, home: Path) -> None:
    for key, value in {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_CONFIG_DIR": str(home / "wandb-config"),  # nothing written to the user's home
        "WANDB_CACHE_DIR": str(home / "wandb-cache"),
        "WANDB_DATA_DIR": str(home / "wandb-data"),
    }.items():
        mp.setenv(key, value)
    mp.delenv("WANDB_API_KEY", raising=False)
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """A 2-epoch run with all four loggers, fitted and tested as `dlx train` does; its report and metrics.csv."""
    import wandb

    from dlx.train.run import fit_and_test

    tmp = tmp_path_factory.mktemp("loggers")
    overrides = ["logger=[csv,tensorboard,mlflow,wandb]", "name=logtest", f"runs_dir={tmp / 'runs'}", *FAST]
    run_dir = tmp / "runs" / "logtest" / "stamp"
    run_dir.mkdir(parents=True)
    cfg, _ = compose_config(overrides)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg))  # as dlx train saves it before the loggers start
    with pytest.MonkeyPatch.context() as mp:
        offline_env(mp, tmp)
        exp = build(overrides, run_dir)
        try:
            report = fit_and_test(exp)
            for callback in exp.trainer.callbacks:  # as dlx train does once report.json is written
                if hasattr(callback, "log_report"):
                    callback.log_report(report)
        finally:
            wandb.teardown()  # ends W&B's service process
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(EPOCHS))
    return {"dir": run_dir, "cfg": cfg, "report": report, "rows": rows, "runs": tmp / "runs"}


def column(run: dict, key: str) -> list[float]:
    return [float(r[key]) for r in run["rows"]]


def test_tensorboard_holds_the_epoch_scalars_test_metrics_and_config(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    events = EventAccumulator(str(run["dir"] / "tensorboard"), size_guidance={"tensors": 0, "scalars": 0})
    events.Reload()
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        series = events.Scalars(key)
        assert [s.step for s in series] == list(range(EPOCHS))
        assert [s.value for s in series] == pytest.approx(column(run, key), rel=1e-6)  # float32 in the file
    (test_acc,) = events.Scalars("test_acc")
    assert test_acc.value == pytest.approx(run["report"]["test_acc"], rel=1e-6)
    assert test_acc.step == EPOCHS
    (text,) = events.Tensors("config/text_summary")
    assert "optim:" in text.tensor_proto.string_val[0].decode()
    start = plugin_data_pb2.HParamsPluginData.FromString(
        events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    ).session_start_info  # the HPARAMS tab's row for this run
    assert start.hparams["optim.lr"].number_value == run["cfg"]["optim"]["lr"]


def test_mlflow_run_holds_metric_history_test_metrics_and_config_params(run):
    from mlflow.tracking import MlflowClient

    uri = (run["runs"] / "mlruns").resolve().as_uri()  # tracking_uri: null -> <runs_dir>/mlruns
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("logtest")  # the run's name
    (mlrun,) = client.search_runs([experiment.experiment_id])
    assert mlrun.info.status == "FINISHED"
    assert mlrun.info.run_name == "logtest/stamp"  # the run directory under runs/
    assert mlrun.data.tags["dlx.run_dir"] == str(run["dir"].resolve())
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        history = sorted(client.get_metric_history(mlrun.info.run_id, key), key=lambda m: m.step)
        assert [m.step for m in history] == list(range(EPOCHS))
        assert [m.value for m in history] == pytest.approx(column(run, key))
    for key in ("test_acc", "f1_macro"):
        assert mlrun.data.metrics[key] == pytest.approx(run["report"][key])
    params, cfg = mlrun.data.params, run["cfg"]
    assert params["optim.lr"] == str(cfg["optim"]["lr"])
    assert params["model._target_"] == cfg["model"]["_target_"]
    assert params["trainer.max_epochs"] == str(EPOCHS)


def wandb_records(path: Path):
    """The protobuf records of a .wandb file (a LevelDB-style log: 32 KiB blocks of checksum, length, type, data)."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, chunk = 7, b""  # after the header ":W&B", magic, version
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # block trailer too short for a header: padding
            pos += 32768 - pos % 32768
            continue
        length, kind = int.from_bytes(data[pos + 4 : pos + 6], "little"), data[pos + 6]
        chunk += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # FULL or LAST
            record = pb.Record()
            record.ParseFromString(chunk)
            yield record
            chunk = b""
        elif kind == 0:
            break


def items(entries) -> dict:
    return {e.key or ".".join(e.nested_key): json.loads(e.value_json) for e in entries}


def test_wandb_offline_run_holds_history_summary_and_config(run):
    (offline,) = (run["dir"] / "wandb").glob("offline-run-*")
    (log,) = offline.glob("run-*.wandb")
    history, summary, config, exit_code = [], {}, {}, None
    for record in wandb_records(log):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            history.append(items(record.history.item))
        elif kind == "summary":
            summary.update(items(record.summary.update))
        elif kind in ("run", "config"):
            config.update(items(record.run.config.update if kind == "run" else record.config.update))
        elif kind == "exit":
            exit_code = record.exit.exit_code
    assert [h["epoch"] for h in history] == list(range(EPOCHS))
    for key in ("train_loss", "val_acc", "lr"):
        assert [h[key] for h in history] == pytest.approx(column(run, key))
    assert summary["test_acc"] == pytest.approx(run["report"]["test_acc"])
    assert config["optim"]["lr"] == run["cfg"]["optim"]["lr"]
    assert exit_code == 0


@pytest.mark.parametrize(
    ("option", "module"), [("tensorboard", "tensorboard"), ("mlflow", "mlflow"), ("wandb", "wandb")]
)
def test_a_missing_library_is_a_config_error_naming_the_extra(option, module, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == option else find_spec(name, *a))
    node = {"_target_": f"dlx.logger.{option}.{option}_logger"}
    with pytest.raises(ConfigError, match=rf"^logger: logger={option} needs the {option} package: pip install"):
        build_node(f"logger.{option}", node)


def test_wandb_online_without_an_api_key_fails_at_build_without_prompting(tmp_path, monkeypatch):
    offline_env(monkeypatch, tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    node = {"_target_": "dlx.logger.wandb.wandb_logger", "mode": "online"}
    with pytest.raises(ConfigError, match=r"^logger.wandb.mode: online needs WANDB_API_KEY"):
        build_node("logger.wandb", node)


@pytest.mark.filterwarnings("ignore:Checkpoint directory .* exists and is not empty")
def test_a_resumed_run_continues_its_mlflow_run_tensorboard_series_and_wandb_id(tmp_path):
    """dlx train resume=RUN rebuilds the experiment in the same directory and fits on from last.ckpt."""
    import wandb
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = tmp_path / "runs" / "again" / "stamp"
    run_dir.mkdir(parents=True)
    overrides = ["logger=[csv,tensorboard,mlflow,wandb]", "name=again", f"runs_dir={tmp_path / 'runs'}", *FAST]
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(compose_config(overrides)[0]))
    with pytest.MonkeyPatch.context() as mp:
        offline_env(mp, tmp_path)
        try:
            first = build([*overrides, "trainer.max_epochs=1"], run_dir)
            first.trainer.fit(first.module, datamodule=first.data)
            again = build(overrides, run_dir)
            again.trainer.fit(again.module, datamodule=again.data, ckpt_path=run_dir / "checkpoints" / "last.ckpt")
        finally:
            wandb.teardown()
    client = MlflowClient(tracking_uri=(tmp_path / "runs" / "mlruns").resolve().as_uri())
    (mlrun,) = client.search_runs([client.get_experiment_by_name("again").experiment_id])
    assert [m.step for m in client.get_metric_history(mlrun.info.run_id, "val_acc")] == list(range(EPOCHS))
    assert mlrun.info.status == "FINISHED"
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    assert [s.step for s in events.Scalars("val_acc")] == list(range(EPOCHS))
    from dlx.logger.wandb import RUN_FOLDER

    ids = {RUN_FOLDER.match(p.name).group(1) for p in (run_dir / "wandb").glob("offline-run-*")}
    assert len(ids) == 1, "one W&B run id: `wandb sync` puts both parts in one run"
