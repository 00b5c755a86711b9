"""Loading what a run directory holds, through the real commands: a checkpoint or config crafted to run code is
refused (one line naming the file, exit 2) and the code does not run; --trust-config and DLX_TRUSTED_PACKAGES
let a config name the user's own package; a damaged checkpoint, config.yaml or metrics.csv is named, not a traceback.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import run_dirs, run_dlx, run_in_process
from tests.malicious import config_payload, write_checkpoint

# one worker runs the whole module, so its module-scoped runs are trained once (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("runs-safe_loading")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One real smoke run (cnn on digits); tests change copies of it."""
    work = tmp_path_factory.mktemp("trained")
    done = run_in_process("train", "trainer=smoke", cwd=work)
    assert done.returncode == 0, done.stderr
    (run,) = run_dirs(work / "runs")
    return run


@pytest.fixture
def run(trained: Path, tmp_path: Path) -> Path:
    """A copy of the trained run under tmp_path/runs/, to damage."""
    copy = tmp_path / "runs" / "cnn-digits" / trained.name
    shutil.copytree(trained, copy)
    return copy


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((2, 1, 8, 8), np.float32))
    return path


def in_process(command: str, args: list[str], cwd: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    """dlx eval / dlx predict through their entry points: (exit code, stdout, stderr)."""
    from dlx.cli import main

    monkeypatch.chdir(cwd)
    code = main([command, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def only_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in err
    return lines[0]


def edit_config(run: Path, change) -> None:
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    change(cfg)
    (run / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def user_package(root: Path) -> Path:
    """mypkg.nets.cnn: dlx's cnn under the user's own name, as a lab's model package would be; its parent folder."""
    (root / "mypkg").mkdir(parents=True)
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "mypkg" / "nets.py").write_text("from dlx.model.cnn import cnn  # noqa: F401\n")
    return root


def with_pythonpath(folder: Path) -> dict:
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


# ---- a checkpoint that would run code


@pytest.mark.parametrize("command", ["eval", "predict"])
def test_eval_and_predict_refuse_a_checkpoint_that_would_run_code(command, run, sample, tmp_path, monkeypatch, capsys):
    marker = tmp_path / "MARKER"
    best = write_checkpoint(run / "checkpoints" / "best.ckpt", marker)
    args = [str(run), *([str(sample)] if command == "predict" else [])]
    code, _, err = in_process(command, args, tmp_path, monkeypatch, capsys)
    assert code == 2
    assert only_line(err).startswith(f"dlx {command}: RUN: {best} is refused: loading it would call ")
    assert not marker.exists()
    assert not (run / "eval").exists(), "nothing written"


def test_resume_refuses_a_last_ckpt_that_would_run_code_and_leaves_the_run_as_it_was(run, tmp_path):
    marker = tmp_path / "MARKER"
    last = write_checkpoint(run / "checkpoints" / "last.ckpt", marker)
    status = (run / "status").read_text()
    out = run_dlx("train", f"resume={run}", cwd=tmp_path)
    assert out.returncode == 2
    assert only_line(out.stderr).startswith(
        f"dlx train: config error: resume: {last} is refused: loading it would call"
    )
    assert not marker.exists()
    assert (run / "status").read_text() == status, "not reopened"


@pytest.mark.parametrize("source", ["file", "run directory"])
def test_init_from_refuses_a_checkpoint_that_would_run_code(source, run, tmp_path):
    marker = tmp_path / "MARKER"
    best = write_checkpoint(run / "checkpoints" / "best.ckpt", marker)
    work = tmp_path / "work"
    work.mkdir()
    out = run_in_process("train", "trainer=smoke", f"model.init_from={best if source == 'file' else run}", cwd=work)
    assert out.returncode == 2
    line = only_line(out.stderr)
    assert line.startswith(f"dlx train: config error: model.init_from: {best} is refused: loading it would call")
    assert not marker.exists()
    assert run_dirs(work / "runs") == [], "no run started"


# ---- a config that names code outside the trusted packages


@pytest.mark.parametrize("target", ["os.system", "subprocess.run"])
@pytest.mark.parametrize("command", ["eval", "predict"])
def test_eval_and_predict_refuse_a_config_naming_code(command, target, run, sample, tmp_path, monkeypatch, capsys):
    marker = tmp_path / "MARKER"
    edit_config(run, lambda cfg: cfg.update(model=config_payload(target, marker)))
    args = [str(run), *([str(sample)] if command == "predict" else [])]
    code, _, err = in_process(command, args, tmp_path, monkeypatch, capsys)
    assert code == 2
    line = only_line(err)
    assert line.startswith(f"dlx {command}: model._target_: refused, in {run / 'config.yaml'}: '{target}' is outside")
    assert "--trust-config" in line and "DLX_TRUSTED_PACKAGES" in line
    assert not marker.exists()


@pytest.mark.parametrize("target", ["os.system", "subprocess.run"])
def test_resume_refuses_a_config_naming_code(target, run, tmp_path):
    marker = tmp_path / "MARKER"
    edit_config(run, lambda cfg: cfg.update(model=config_payload(target, marker)))
    status = (run / "status").read_text()
    out = run_in_process("train", f"resume={run}", cwd=tmp_path)
    assert out.returncode == 2
    line = only_line(out.stderr)
    assert line.startswith(f"dlx train: config error: model._target_: refused, in {run / 'config.yaml'}: '{target}'")
    assert not marker.exists()
    assert (run / "status").read_text() == status


def test_a_config_deep_in_a_list_group_is_checked_too(run, tmp_path, monkeypatch, capsys):
    """eval builds only the model and reg; a target anywhere else is refused all the same."""
    edit_config(run, lambda cfg: cfg["logger"]["csv"].update(_target_="builtins.eval"))
    code, _, err = in_process("eval", [str(run)], tmp_path, monkeypatch, capsys)
    assert code == 2
    assert only_line(err).startswith("dlx eval: logger.csv._target_: refused, in ")


def test_trust_config_and_trusted_packages_let_a_run_name_its_own_package(run, tmp_path, monkeypatch, capsys):
    report = json.loads((run / "report.json").read_text())
    edit_config(run, lambda cfg: cfg["model"].update(_target_="mypkg.nets.cnn"))
    monkeypatch.syspath_prepend(str(user_package(tmp_path / "site")))

    code, _, err = in_process("eval", [str(run)], tmp_path, monkeypatch, capsys)
    assert code == 2 and "'mypkg.nets.cnn' is outside the trusted packages" in only_line(err)

    code, out, err = in_process("eval", [str(run), "--trust-config"], tmp_path, monkeypatch, capsys)
    assert code == 0, err
    assert json.loads((run / "eval" / "test.json").read_text())["test_acc"] == pytest.approx(report["test_acc"])

    (run / "eval" / "test.json").unlink()
    monkeypatch.setenv("DLX_TRUSTED_PACKAGES", "otherpkg, mypkg")
    code, out, err = in_process("eval", [str(run)], tmp_path, monkeypatch, capsys)
    assert code == 0, err
    assert (run / "eval" / "test.json").is_file()

    monkeypatch.delenv("DLX_TRUSTED_PACKAGES")
    sample = tmp_path / "x.npy"
    np.save(sample, np.zeros((1, 8, 8), np.float32))
    code, out, err = in_process(
        "predict", [str(run), str(sample), "--json", "--trust-config"], tmp_path, monkeypatch, capsys
    )
    assert code == 0, err
    assert len(json.loads(out)) == 1


def test_resume_with_trust_config_continues_a_run_naming_its_own_package(run, tmp_path):
    """The resumed epoch also shows Lightning restoring last.ckpt (dlx_rng included) with weights_only=True."""

    def own_package_one_more_epoch(cfg):
        cfg["model"]["_target_"] = "mypkg.nets.cnn"
        cfg["trainer"]["max_epochs"] = 2

    edit_config(run, own_package_one_more_epoch)
    env = with_pythonpath(user_package(tmp_path / "site"))
    refused = run_dlx("train", f"resume={run}", cwd=tmp_path, env=env)
    assert refused.returncode == 2 and "'mypkg.nets.cnn' is outside the trusted packages" in refused.stderr
    resumed = run_dlx("train", f"resume={run}", "--trust-config", cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert (run / "status").read_text().startswith("completed")
    assert json.loads((run / "report.json").read_text())["epochs_run"] == 2
    assert [row.split(",")[0] for row in (run / "metrics.csv").read_text().splitlines()[1:]] == ["0", "1"]


# ---- damaged files


def cut_in_half(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    return path


@pytest.mark.parametrize(
    ("damage", "message"),
    [(cut_in_half, "is damaged or cut short"), (random_bytes, "is not a checkpoint")],
    ids=["truncated", "random bytes"],
)
@pytest.mark.parametrize("command", ["eval", "predict"])
def test_a_damaged_checkpoint_is_one_line_naming_it(
    command, damage, message, run, sample, tmp_path, monkeypatch, capsys
):
    best = damage(run / "checkpoints" / "best.ckpt")
    args = [str(run), *([str(sample)] if command == "predict" else [])]
    code, _, err = in_process(command, args, tmp_path, monkeypatch, capsys)
    assert code == 2
    assert only_line(err).startswith(f"dlx {command}: RUN: {best} {message}")


@pytest.mark.parametrize(
    ("file", "damage", "message"),
    [
        ("checkpoints/last.ckpt", cut_in_half, "resume: {path} is damaged or cut short"),
        ("metrics.csv", random_bytes, "{path}: is not a metrics table"),
        ("config.yaml", lambda p: p.write_text("model: [unclosed\n"), "RUN: {path} cannot be read"),
    ],
    ids=["truncated last.ckpt", "binary metrics.csv", "broken config.yaml"],
)
def test_resume_names_a_damaged_file_before_reopening_the_run(file, damage, message, run, tmp_path):
    path = run / file
    damage(path)
    status = (run / "status").read_text()
    out = run_in_process("train", f"resume={run}", cwd=tmp_path)
    assert out.returncode == 2
    assert only_line(out.stderr).startswith(f"dlx train: config error: {message.format(path=path)}")
    assert (run / "status").read_text() == status


@pytest.mark.parametrize("command", ["eval", "predict"])
def test_eval_and_predict_name_a_broken_config(command, run, sample, tmp_path, monkeypatch, capsys):
    (run / "config.yaml").write_bytes(b"\x00\xff\xfe garbage")
    args = [str(run), *([str(sample)] if command == "predict" else [])]
    code, _, err = in_process(command, args, tmp_path, monkeypatch, capsys)
    assert code == 2
    assert only_line(err).startswith(f"dlx {command}: RUN: {run / 'config.yaml'} cannot be read")


# ---- dlx show, dlx compare, dlx runs: files read, nothing built


@pytest.fixture
def fake(tmp_path: Path, monkeypatch) -> tuple[Path, Path, Path]:
    """runs/ with a finished run and an interrupted one (no report.json: show reads its metrics.csv)."""
    from tests.runs.fake_runs import write_run

    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs"
    done = write_run(root / "mlp-digits" / "2026-01-01_10-00-00", ["model=mlp"], minute=0, test_acc=0.9)
    cut = write_run(root / "cnn-digits" / "2026-01-01_11-00-00", [], minute=1, status="interrupted")
    return root, done, cut


DAMAGED_FILES = [
    ("config.yaml", b"seed: 0\nmodel: {width: [\n", "is not valid YAML ("),
    ("config.yaml", b"- a list\n- not a config\n", "holds a list, expected keys and values"),
    ("config.yaml", b"\x89PNG\r\n\x1a\n\x00\x00", "is not text (byte 0 is not UTF-8)"),
    ("overrides.yaml", b"model=mlp: [", "is not valid YAML ("),
    ("report.json", b'{"test_acc": 0.9, "f1', "is not valid JSON ("),
    ("report.json", b"[1, 2]", "holds a JSON list, expected an object"),
    ("metrics.csv", bytes(range(256)) * 4, "is not a metrics table ("),
    ("metrics.csv", b"a,b\n1,2\n", "has no epoch column (its header: a,b)"),
]


@pytest.mark.parametrize(("name", "content", "message"), DAMAGED_FILES)
def test_show_and_compare_name_a_damaged_file_in_one_line(name, content, message, fake, capsys):
    from dlx.runs import compare, show

    root, done, cut = fake
    broken = cut if name == "metrics.csv" else done  # show reads metrics.csv only for a run without report.json
    (broken / name).write_bytes(content)
    assert show.main([str(broken), "--runs-dir", str(root)]) == 2
    out = capsys.readouterr()
    assert only_line(out.err).startswith(f"dlx show: {broken / name}: {message}") and out.out == ""
    assert compare.main([str(done), str(cut), "--runs-dir", str(root)]) == 2
    out = capsys.readouterr()
    assert only_line(out.err).startswith(f"dlx compare: {broken / name}: {message}") and out.out == ""
    assert not Path("compare.png").exists()


def test_a_metrics_cell_that_is_not_a_number_is_named_with_its_line(fake, capsys):
    from dlx.runs import show

    root, _, cut = fake
    lines = (cut / "metrics.csv").read_text().splitlines()
    lines[2] = lines[2].replace(lines[2].split(",")[1], "garbage", 1)
    (cut / "metrics.csv").write_text("\n".join(lines) + "\n")
    assert show.main([str(cut), "--runs-dir", str(root)]) == 2
    line = only_line(capsys.readouterr().err)
    assert line == f"dlx show: {cut / 'metrics.csv'}:line 3: column 'train_loss' holds 'garbage', not a number"


@pytest.mark.parametrize(("name", "content", "message"), [d for d in DAMAGED_FILES if d[0] != "metrics.csv"])
def test_runs_lists_a_damaged_run_as_unreadable_and_the_others_as_usual(name, content, message, fake, capsys):
    from dlx.runs.table import main

    root, done, cut = fake
    (done / name).write_bytes(content)
    assert main(["--runs-dir", str(root), "--json"]) == 0
    out = capsys.readouterr()
    line = only_line(out.err)
    assert line.startswith(f"dlx runs: {done / name}: {message}") and line.endswith("; listed as unreadable")
    rows = {r["run"]: r for r in json.loads(out.out)}
    assert rows["cnn-digits/2026-01-01_11-00-00"]["status"] == "interrupted", "the other run as usual"
    broken = rows["mlp-digits/2026-01-01_10-00-00"]
    assert broken["status"] == "unreadable" and broken["message"].startswith(f"{done / name}: {message}")
    assert broken["test_acc"] is None and broken["model"] is None
    assert main(["--runs-dir", str(root)]) == 0, "the table too"
    assert "unreadable" in capsys.readouterr().out


def test_compare_of_a_sweep_leaves_out_a_job_with_a_damaged_report(tmp_path, monkeypatch, capsys):
    from dlx.runs import compare
    from tests.runs.fake_runs import write_sweep

    monkeypatch.chdir(tmp_path)
    jobs = [{"overrides": ["seed=0"], "test_acc": 0.9}, {"overrides": ["seed=1"], "test_acc": 0.8}]
    sweep = write_sweep(tmp_path / "runs" / "multirun" / "2026-01-01_10-00-00", jobs)
    (sweep / "1" / "report.json").write_text("{ not json")
    assert compare.main([str(sweep)]) == 0
    out = capsys.readouterr().out
    assert "left out: 1 job(s) that did not complete: 1 (unreadable)" in out
