"""A shallow decision tree (scikit-learn) fitted to the model's predictions: the model's behaviour as rules."""

import numpy as np


def fit_rules(x_fit: np.ndarray, pred_fit: np.ndarray, depth: int, seed: int):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=depth, random_state=seed).fit(x_fit, pred_fit)


def leaf_rules(tree, feature_names: list[str], class_names: list[str]) -> list[dict]:
    """One row per leaf: its conditions (if ... and ...), the class it predicts, its training samples, purity."""
    t = tree.tree_
    rows = []

    def walk(node: int, conditions: list[str]) -> None:
        if t.children_left[node] == t.children_right[node]:  # a leaf
            counts = t.value[node][0]
            k = int(np.argmax(counts))
            rows.append({
                "rule": " and ".join(conditions) or "(always)",
                "class": class_names[int(tree.classes_[k])],
                "samples": int(t.n_node_samples[node]),
                "purity": float(counts[k] / counts.sum()),
            })  # fmt: skip
            return
        name, threshold = feature_names[t.feature[node]], t.threshold[node]
        walk(t.children_left[node], [*conditions, f"{name} <= {threshold:.4g}"])
        walk(t.children_right[node], [*conditions, f"{name} > {threshold:.4g}"])

    walk(0, [])
    return sorted(rows, key=lambda r: -r["samples"])


def rules_text(rows: list[dict]) -> str:
    return "\n".join(
        f"if {r['rule']} then {r['class']}   ({r['samples']} samples, {r['purity']:.0%} pure)" for r in rows
    )
