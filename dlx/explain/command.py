"""`dlx explain RUN method=NAME [split=test] [n=16] [patch=N] [target=pred|true] [...]`: why the model decides.

    dlx explain latest method=saliency                 # gradients of the class score, over the first n inputs
    dlx explain latest method=integrated_gradients n=8
    dlx explain latest method=occlusion window=4
    dlx explain latest method=gradcam                  # convolutional models
    dlx explain latest method=permutation repeats=5    # accuracy drop per feature (per patch: patch=4)
    dlx explain latest method=shap n=32                # Shapley value sampling (Captum); method=lime likewise
    dlx explain latest method=rules depth=3            # a decision tree fitted to the model's predictions

Output: RUN/explain/<method>/ (PNG, CSV, summary.json) and a short summary; report.html links it.
"""

import argparse
import sys
from pathlib import Path

from dlx.args import Parser
from dlx.config.errors import ConfigError
from dlx.config.trust import FLAG_HELP
from dlx.explain.methods import GRADIENT_METHODS, IMPORTANCE_METHODS

METHODS = (*GRADIENT_METHODS, *IMPORTANCE_METHODS, "rules")
WHOLE = {"n": 1, "patch": 1, "window": 1, "repeats": 1, "depth": 1, "seed": 0}  # key -> smallest value


def parse(argv: list[str]) -> argparse.Namespace:
    p = Parser(prog="dlx explain", description="Explain a run's model: attributions, importance, rules.")
    p.add_argument("run", help="a run directory, a unique prefix of its name, or latest")
    p.add_argument("settings", nargs="*", help=f"method={'|'.join(METHODS)}, split=, n=, patch=, target=, ...")
    p.add_argument("--runs-dir", default="runs", help="where runs are found (default: %(default)s)")
    p.add_argument("--trust-config", action="store_true", help=FLAG_HELP)
    return p.parse_args(argv)


def settings_of(items: list[str]) -> dict:
    out = {"split": "test", "target": "pred", "n": None, "patch": None, "window": None, "repeats": 5, "depth": 3}
    out["seed"] = 0
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in {*out, "method"}:
            raise ConfigError(item, f"expected KEY=VALUE with KEY one of: method, {', '.join(out)}")
        if key in WHOLE:
            try:
                out[key] = int(value)
            except ValueError:
                raise ConfigError(key, f"got {value!r}; expected a whole number >= {WHOLE[key]}") from None
            if out[key] < WHOLE[key]:
                raise ConfigError(key, f"got {value}; expected a whole number >= {WHOLE[key]}")
        else:
            out[key] = value
    if "method" not in out:
        raise ConfigError("method", f"missing; give method=NAME, one of: {', '.join(METHODS)}")
    if out["method"] not in METHODS:
        raise ConfigError("method", f"got {out['method']!r}; valid: {', '.join(METHODS)}")
    if out["split"] not in ("test", "val", "train"):
        raise ConfigError("split", f"got {out['split']!r}; valid: test, val, train")
    if out["target"] not in ("pred", "true"):
        raise ConfigError("target", f"got {out['target']!r}; valid: pred (the predicted class), true")
    return out


def main(argv: list[str]) -> int:
    args = parse(argv)
    try:
        settings = settings_of(args.settings)
        out, summary = explain(args.run, settings, Path(args.runs_dir), args.trust_config)
    except ConfigError as e:
        print(f"dlx explain: {e}", file=sys.stderr)
        return 2
    print_summary(out, summary)
    return 0


def explain(spec: str, s: dict, runs_root: Path, trust_config: bool = False) -> tuple[Path, dict]:
    from dlx.explain.inputs import convolution_layer, feature_groups, kind_of, require_patch
    from dlx.explain.methods import predict
    from dlx.runs.evaluate import refresh_report, restored_data

    run, data, _ = restored_data(spec, [], runs_root, trust_config)
    kind, method, model = kind_of(run.in_shape), s["method"], run.choices.get("model", "?")
    # what does not fit the model or the data is refused before any work
    if method == "gradcam":
        if kind not in ("image", "signal"):
            raise ConfigError("method", f"gradcam needs images or signals; this run's data is a {kind}")
        convolution_layer(run.net, model)
    if method in IMPORTANCE_METHODS:
        require_patch(method, kind, s["patch"])
    x, y = split_tensors(data, s["split"])
    net = run.net.eval()
    for p in net.parameters():
        p.requires_grad_(False)  # attributions need input gradients only
    pred = predict(net, x)
    out = run.run_dir / "explain" / method
    out.mkdir(parents=True, exist_ok=True)
    names = run.data_state.get("feature_names")
    summary = {"method": method, "split": s["split"], "kind": kind, "model": model}
    if method in GRADIENT_METHODS:
        summary |= explain_samples(net, x, y, pred, s, kind, model, run, out)
    elif method == "rules":
        train_x, _ = split_tensors(data, "train")
        summary |= explain_rules(net, train_x, x, pred, s, run, names, out)
    else:
        mask, groups = feature_groups(kind, run.in_shape, s["patch"], names)
        summary |= explain_importance(net, x, y, pred, s, kind, mask, groups, run, out)
    from dlx.run_dir import write_json

    write_json(out / "summary.json", summary)
    refresh_report(run.run_dir)
    return out, summary


def split_tensors(data, split: str):
    import torch

    batches = list(data.eval_batches(split))
    return torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])


def titles(run, y, pred, idx) -> list[str]:
    names = run.class_names
    return [f"{names[int(y[i])]} / {names[int(pred[i])]}" for i in idx]


def explain_samples(net, x, y, pred, s, kind, model, run, out) -> dict:
    import numpy as np

    from dlx.explain import plots
    from dlx.explain.methods import attributions, per_group
    from dlx.run_dir import write_atomic, write_atomic_bytes

    n = min(s["n"] or 16, len(x))
    xs, target = x[:n], (pred if s["target"] == "pred" else y)[:n]
    window = s["window"] or (max(2, run.in_shape[-1] // 7) if kind != "table" else 1)
    attr = attributions(s["method"], net, xs, target, model, window)
    np.save(out / "attributions.npy", attr.numpy())
    rows = ["index,true,predicted"] + [
        f"{i},{run.class_names[int(y[i])]},{run.class_names[int(pred[i])]}" for i in range(n)
    ]
    write_atomic(out / "samples.csv", "\n".join(rows) + "\n")
    files = ["attributions.npy", "samples.csv"]
    raw = run.normalizer.undo(xs).numpy()
    if kind == "image":
        write_atomic_bytes(
            out / "attributions.png", plots.image_grid(raw, attr.numpy(), titles(run, y, pred, range(n)), s["method"])
        )
        files.append("attributions.png")
    elif kind == "signal":
        write_atomic_bytes(
            out / "attributions.png", plots.signal_lines(raw, attr.numpy(), titles(run, y, pred, range(n)), s["method"])
        )
        files.append("attributions.png")
    summary = {"samples": n, "target": s["target"], "files": files}
    if kind == "table":
        from dlx.explain.inputs import feature_groups

        mask, names = feature_groups(kind, run.in_shape, None, run.data_state.get("feature_names"))
        values = per_group(attr.abs().mean(0), mask[0], len(names)).tolist()
        summary |= write_importance(out, names, values, [0.0] * len(values), f"{s['method']}: mean |attribution|")
        summary["files"] = files + summary["files"]
    return summary


def explain_importance(net, x, y, pred, s, kind, mask, groups, run, out) -> dict:
    from dlx.explain.methods import local_importance, permutation_importance

    if s["method"] == "permutation":
        n = min(s["n"] or 2000, len(x))  # groups x repeats passes over n samples: bounded by default
        values, spread = permutation_importance(net, x[:n], y[:n], mask, len(groups), s["repeats"], s["seed"])
        title = f"permutation: accuracy drop when shuffled ({s['repeats']} repeats)"
        extra = {"samples": n, "repeats": s["repeats"], "metric": "accuracy"}
    else:
        n = min(s["n"] or 32, len(x))
        target = (pred if s["target"] == "pred" else y)[:n]
        values, spread = local_importance(s["method"], net, x[:n], target, mask, s["seed"])
        title = f"{s['method']}: mean |attribution| over {n} samples"
        extra = {"samples": n, "target": s["target"]}
    summary = write_importance(out, groups, values, spread, title) | extra
    if kind == "image":
        from dlx.explain.plots import importance_map
        from dlx.run_dir import write_atomic_bytes

        _, height, width = run.in_shape
        rows, cols = -(-height // s["patch"]), -(-width // s["patch"])
        write_atomic_bytes(out / "importance_map.png", importance_map(values, rows, cols, title))
        summary["files"].append("importance_map.png")
        summary["patch"] = s["patch"]
    return summary


def write_importance(out: Path, names: list[str], values: list[float], spread: list[float], title: str) -> dict:
    import csv
    import io

    from dlx.explain.plots import importance_bars
    from dlx.run_dir import write_atomic, write_atomic_bytes

    order = sorted(range(len(names)), key=lambda i: -values[i])
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["rank", "feature", "importance", "std"])
    for rank, i in enumerate(order, 1):
        writer.writerow([rank, names[i], f"{values[i]:.6g}", f"{spread[i]:.6g}"])
    write_atomic(out / "importance.csv", text.getvalue())
    write_atomic_bytes(out / "importance.png", importance_bars(names, values, spread, title))
    top = [{"feature": names[i], "importance": values[i], "std": spread[i]} for i in order[:10]]
    return {"top": top, "files": ["importance.csv", "importance.png"]}


def explain_rules(net, train_x, x, pred, s, run, names, out) -> dict:
    import csv
    import io

    import numpy as np
    import torch

    from dlx.explain.rules import fit_rules, leaf_rules, rules_text
    from dlx.run_dir import write_atomic

    def flat_raw(t: torch.Tensor) -> np.ndarray:  # thresholds in the data's own units
        return run.normalizer.undo(t).reshape(len(t), -1).numpy()

    from dlx.explain.methods import predict

    train_pred = predict(net, train_x).numpy()
    if names is None or len(names) != flat_raw(x[:1]).shape[1]:
        names = (
            [f"x{i}" for i in range(flat_raw(x[:1]).shape[1])] if len(run.in_shape) == 1 else pixel_names(run.in_shape)
        )
    tree = fit_rules(flat_raw(train_x), train_pred, s["depth"], s["seed"])
    surrogate = tree.predict(flat_raw(x))
    fidelity = float((surrogate == pred.numpy()).mean())
    chance = float(np.bincount(pred.numpy()).max() / len(pred))  # always answering the model's commonest class
    rows = leaf_rules(tree, names, run.class_names)
    text = rules_text(rows)
    write_atomic(out / "rules.txt", text + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["rule", "class", "samples", "purity"])
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(out / "rules.csv", buffer.getvalue())
    return {
        "fidelity": fidelity, "chance": chance, "depth": int(tree.get_depth()), "leaves": int(tree.get_n_leaves()),
        "samples": len(x), "fitted_on": "train split, the model's predictions", "rules": text.splitlines()[:10],
        "files": ["rules.txt", "rules.csv"],
    }  # fmt: skip


def pixel_names(in_shape: tuple[int, ...]) -> list[str]:
    import itertools

    return ["px" + ",".join(map(str, idx)) for idx in itertools.product(*(range(s) for s in in_shape))]


def print_summary(out: Path, summary: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]dlx explain[/bold] method={summary['method']} on the {summary['split']} split ({summary['kind']})"
    )
    if "top" in summary:
        table = Table(title="most important")
        for column in ("feature", "importance", "std"):
            table.add_column(column, justify="left" if column == "feature" else "right")
        for row in summary["top"]:
            table.add_row(escape(str(row["feature"])), f"{row['importance']:.4g}", f"{row['std']:.3g}")
        console.print(table)
    if "fidelity" in summary:
        console.print(f"fidelity {summary['fidelity']:.3f} (chance {summary['chance']:.3f}), depth {summary['depth']}, "
                      f"{summary['leaves']} leaves")  # fmt: skip
        for line in summary["rules"]:
            console.print("  " + escape(line))
    console.print(f"written to {escape(str(out))}/: {', '.join(summary['files'])}")
