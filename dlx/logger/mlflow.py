"""MLflow: one MLflow run per dlx run (per-epoch metrics, test metrics, the config as params).  logger=mlflow

dlx train logger=[csv,mlflow]                           # file store <runs_dir>/mlruns, experiment = run name
dlx train logger=[csv,mlflow] logger.mlflow.tracking_uri=http://localhost:5000
MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri runs/mlruns    # (the full `mlflow` package)
"""

import os
import time
from pathlib import Path
from urllib.parse import urlparse

from dlx.config.flat import flatten
from dlx.logger.base import EpochLogger, RunInfo, require

STATUS = {"completed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
RUN_DIR_TAG = "dlx.run_dir"  # finds the MLflow run again when `dlx train resume=RUN` continues the dlx run


class MLflowEpochs(EpochLogger):
    def __init__(self, tracking_uri: str | None = None, experiment: str | None = None):
        super().__init__()
        self.tracking_uri, self.experiment = tracking_uri, experiment
        self.client, self.run_id = None, None

    def start(self, run: RunInfo, first_epoch: int) -> None:
        from mlflow.entities import Param
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # dlx makes no network calls unless asked to
        uri = self.tracking_uri or (Path(run.config.get("runs_dir") or self.run_dir) / "mlruns").resolve().as_uri()
        if urlparse(uri).scheme in ("", "file"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store behind this
        self.client = client = MlflowClient(tracking_uri=uri)
        experiment = self.experiment or run.name
        found = client.get_experiment_by_name(experiment)
        try:
            experiment_id = found.experiment_id if found else client.create_experiment(experiment)
        except MlflowException:  # a parallel sweep job created it first
            experiment_id = client.get_experiment_by_name(experiment).experiment_id
        run_dir = str(self.run_dir.resolve())
        if first_epoch:  # resumed: continue the run this run directory started, if it is there
            runs = client.search_runs([experiment_id], f"tags.`{RUN_DIR_TAG}` = '{run_dir}'", max_results=1)
            if runs:
                self.run_id = runs[0].info.run_id
                client.update_run(self.run_id, status="RUNNING")
                return
        self.run_id = client.create_run(experiment_id, run_name=run.label, tags={RUN_DIR_TAG: run_dir}).info.run_id
        params = [Param(k, str(v)[:6000]) for k, v in flatten(run.config).items()]  # 6000: MLflow's value limit
        for i in range(0, len(params), 100):  # 100 params per request at most
            client.log_batch(self.run_id, params=params[i : i + 100])

    def log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(k, v, now, epoch) for k, v in metrics.items()])

    log_final = log_epoch  # report.json's numbers (test_acc, f1_macro, ...) at step = epochs run

    def close(self, status: str, final: bool) -> None:
        self.client.set_terminated(self.run_id, STATUS[status])  # after fit, and again after log_report


def mlflow_logger(tracking_uri: str | None = None, experiment: str | None = None) -> MLflowEpochs:
    require("mlflow")
    return MLflowEpochs(tracking_uri, experiment)
