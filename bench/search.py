"""Hyperparameter search on digits, measured side by side in one run (make bench-search).

1. Parallel trials on this machine: one process; dlx's worker processes sharing the SQLite study
   (search.n_jobs=2); Optuna's own threads (study.optimize(n_jobs=2)) around the same trial function.
2. Hyperband against the full grid over the same 24 points: best val accuracy and total epochs trained
   (Hyperband with 16 trials and reduction factor 4, mean over 3 sampler seeds).
3. TPE against random with the same budget: best val accuracy after N trials, mean over 3 sampler seeds.

    python bench/search.py [--trials 12]
"""

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

DLX = str(Path(sys.executable).parent / "dlx")
BASE = ["model=mlp", "trainer.progress=false"]
GRID_SPACE = {
    "optim.lr": "choice(0.001, 0.003, 0.01, 0.03)",
    "model.width": "choice(8, 16, 32)",
    "optim": "choice(adam, sgd)",
}
SMOOTH_SPACE = {"optim.lr": "loguniform(1e-4, 1e-1)", "model.width": "int(4, 64)", "model.dropout": "uniform(0, 0.6)"}


def search(work: Path, name: str, node: dict, overrides: list[str]) -> tuple[list[dict], float]:
    conf = work / "conf" / "search"
    conf.mkdir(parents=True, exist_ok=True)
    body = {"_target_": "dlx.search.spec.search", "direction": "maximize", "objective": "val_acc", **node}
    (conf / f"{name}.yaml").write_text(f"# bench.  dlx search search={name}\n" + yaml.safe_dump(body))
    t0 = time.perf_counter()
    command = [DLX, "search", f"search={name}", *BASE, *overrides]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{name} failed: {done.stderr[-2000:]}")
    [sweep] = (work / "runs" / "sweeps" / name).iterdir()
    with open(sweep / "trials.csv") as f:
        return list(csv.DictReader(f)), seconds


def best(rows: list[dict]) -> float:
    return max(float(r["val_acc"]) for r in rows if r["state"] == "complete")


def epochs(rows: list[dict]) -> int:
    return sum(int(r["epochs"] or 0) for r in rows)


def optuna_threads(work: Path, trials: int) -> tuple[float, str]:
    """Optuna's thread parallelism around dlx's trial function: does Lightning run in threads?"""
    code = f"""
import optuna
from pathlib import Path
from dlx.search.spec import search
from dlx.search.trial import run_trial
from dlx.experiment import quiet_lightning
quiet_lightning()
spec = search(space={SMOOTH_SPACE!r}, sampler="random", n_trials={trials})
study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
study.optimize(lambda t: run_trial(t, spec, {BASE + ["trainer.max_epochs=3"]!r}, Path("threads"), None),
               n_trials={trials}, n_jobs=2, catch=(Exception,))
states = [t.state.name for t in study.trials]
errors = sorted(set(t.user_attrs.get("error", "") for t in study.trials) - set([""]))
print(states.count("COMPLETE"), "|".join(errors)[:300])
"""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    line = (out.stdout.strip().splitlines() or ["0 " + out.stderr.strip().splitlines()[-1]])[-1]
    completed, _, error = line.partition(" ")
    return seconds, f"{completed}/{trials} completed" + (f"; errors: {error}" if error else "")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=12, help="trials per search in parts 1 and 3")
    p.add_argument("--epochs", type=int, default=27, help="epochs of a full trial in part 2")
    p.add_argument("--hb-trials", type=int, default=16, help="Hyperband's trials in part 2 (the grid has 24)")
    p.add_argument("--hb-factor", type=int, default=4, help="Hyperband's reduction factor in part 2")
    p.add_argument("--parts", default="123", help="which parts to run, e.g. 2")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"dlx search on digits (MLP), {args.trials} trials per search unless noted")
        if "1" in args.parts:
            parallel(root, args.trials)
        if "2" in args.parts:
            hyperband_against_grid(root, args.epochs, args.hb_trials, args.hb_factor)
        if "3" in args.parts:
            tpe_against_random(root, args.trials)


def parallel(root: Path, trials: int) -> None:
    short = ["trainer.max_epochs=3"]
    node = {"space": SMOOTH_SPACE, "sampler": "random", "pruner": "none", "n_trials": trials}
    one, t1 = search(root / "p1", "serial", {**node, "n_jobs": 1}, short)
    two, t2 = search(root / "p2", "procs", {**node, "n_jobs": 2}, short)
    workers = len({r["worker_pid"] for r in two})
    (root / "p3").mkdir()
    t3, threads = optuna_threads(root / "p3", trials)
    print("\n1. parallel trials                  wall s   speed-up   result")
    print(f"   one process                     {t1:7.1f}      1.00x   {len(one)} trials")
    print(f"   dlx worker processes (n_jobs=2) {t2:7.1f}      {t1 / t2:.2f}x   {len(two)} trials, {workers} workers")
    print(f"   Optuna threads (n_jobs=2)       {t3:7.1f}      {t1 / t3:.2f}x   {threads}")


def hyperband_against_grid(root: Path, max_epochs: int, trials: int, factor: int) -> None:
    """Hyperband (random sampler, `trials` trials, rungs at 1/factor) for 3 sampler seeds, against the grid."""
    full = [f"trainer.max_epochs={max_epochs}"]
    grid_node = {"space": GRID_SPACE, "sampler": "grid", "pruner": "none", "n_trials": 1000}  # the whole grid
    grid, tg = search(root / "g", "grid", grid_node, full)
    runs = []
    for seed in range(3):
        node = {"space": GRID_SPACE, "sampler": "random", "pruner": "hyperband", "n_trials": trials}
        node["reduction_factor"] = factor
        rows, seconds = search(root / f"h{seed}", "hyperband", {**node, "sampler_seed": seed}, full)
        runs.append((best(rows), epochs(rows), seconds, sum(r["state"] == "pruned" for r in rows)))
    print(
        f"\n2. Hyperband ({trials} trials, reduction factor {factor}, sampler seeds 0-2) against the full grid "
        f"({len(grid)} points, {max_epochs} epochs each)"
    )
    print(f"   grid            best val acc {best(grid):.4f}   epochs {epochs(grid):4d}   wall {tg:.1f} s")
    for seed, (acc, n, seconds, pruned) in enumerate(runs):
        print(f"   hyperband, s={seed} best val acc {acc:.4f}   epochs {n:4d}   wall {seconds:.1f} s   pruned {pruned}")
    gap = statistics.fmean(best(grid) - acc for acc, *_ in runs)
    share = statistics.fmean(n for _, n, *_ in runs) / epochs(grid)
    print(f"   mean gap {gap * 100:.2f} points (target <= 1), mean epochs ratio {share:.2f} (target <= 0.33)")


def tpe_against_random(root: Path, trials: int) -> None:
    results = {"tpe": [], "random": []}
    for seed in range(3):
        for sampler in results:
            node = {"space": SMOOTH_SPACE, "sampler": sampler, "pruner": "none", "n_trials": trials}
            node["sampler_seed"] = seed
            rows, _ = search(root / f"{sampler}{seed}", sampler, node, ["trainer.max_epochs=5"])
            results[sampler].append(best(rows))
    tpe, rnd = statistics.fmean(results["tpe"]), statistics.fmean(results["random"])
    print(f"\n3. TPE against random, {trials} trials, sampler seeds 0-2, best val acc")
    print(f"   tpe    {' '.join(f'{v:.4f}' for v in results['tpe'])}   mean {tpe:.4f}")
    print(f"   random {' '.join(f'{v:.4f}' for v in results['random'])}   mean {rnd:.4f}")
    print(f"   ratio tpe/random {tpe / rnd:.4f}; error ratio (1-tpe)/(1-random) {(1 - tpe) / (1 - rnd):.2f}")


if __name__ == "__main__":
    main()
