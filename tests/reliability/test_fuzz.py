"""Random `dlx train` overrides: each one trains (smoke-sized) or exits 2 with one line; never a traceback.

    DLX_FUZZ_CASES=500 pytest -q -s tests/reliability/test_fuzz.py

Cases run in this process through `dlx.train.command.main`: about 0.3 s for a bad config, a few seconds for one
that trains (most of it the report's latency measurement).
"""

import contextlib
import io
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from dlx.config.paths import packaged_conf_dir
from tests.conftest import compose_config, inside, run_dirs
from tests.reliability.tally import record, scale

LIST_GROUPS = ("reg", "aug", "logger")  # groups that take a list of options: reg=[l2,dropout]
# Every case ends with these: a config that is valid trains two batches of one epoch, into its own runs dir.
SMOKE_SIZE = [
    "trainer=smoke",
    "++trainer.max_epochs=1",
    "++trainer.limit_train_batches=2",
    "++trainer.limit_val_batches=2",
    "++trainer.limit_test_batches=2",
    "++trainer.progress=false",
]
# Lines a failing run may print on stderr before its one-line error (they say what it was doing).
INFO_PREFIXES = ("dlx: downloading ",)


def group_options() -> dict[str, list[str]]:
    conf = packaged_conf_dir()
    return {d.name: sorted(p.stem for p in d.glob("*.yaml")) for d in sorted(conf.iterdir()) if d.is_dir()}


def leaves(node: dict, prefix: str = "") -> dict[str, Any]:
    """{dotted key: value} of every leaf: {"model": {"width": 32}} -> {"model.width": 32}."""
    found = {}
    for k, v in node.items():
        path = f"{prefix}{k}"
        found |= leaves(v, path + ".") if isinstance(v, dict) and v else {path: v}
    return found


@dataclass
class Key:
    owners: list[str]  # the group choices that bring it in: model.growth <- model=densenet; [] for seed, name...
    default: Any  # its value where it first appears


def known_keys() -> dict[str, Key]:
    """Every key a user can set: the composed default config's and each group option's."""
    cfg, _ = compose_config([])
    keys = {key: Key([], value) for key, value in leaves(cfg).items()}
    for group, options in group_options().items():
        if group == "experiment":  # `# @package _global_`: its keys are the other groups'
            continue
        for option in options:
            node = OmegaConf.to_container(OmegaConf.load(packaged_conf_dir() / group / f"{option}.yaml"))
            node.pop("defaults", None)
            choice = f"{group}=[{option}]" if group in LIST_GROUPS else f"{group}={option}"
            for key, value in leaves(node, f"{group}.").items():
                keys.setdefault(key, Key([], value)).owners.append(choice)
    return keys


# --- values, written as override text -------------------------------------------------------------------------

HUGE_INTS = [2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30, -(2**63)]  # far beyond any memory: refused at once
SPECIAL_FLOATS = ["nan", "inf", "-inf", "1e308", "-1e308", "1e-320", "-0.0", "0.0", "0.5", "-0.5", "1.0", "1.5"]
# no "/" or "..": a string must not send a path key (data.root, name) outside the test's directory
SAFE_CHARS = string.ascii_letters + string.digits + "_-. :@#%^&*+?!|<>;" + "éü中😀"
TRICKY_STRINGS = [
    "", "''", '""', "a=b", "a,b", "x y", "'quoted'", '"double"', "'a=b,c'", "it's", "\\", "a\nb", "\t",
    "${seed}", "${nope}", "${model.width}", "${oc.env:DLX_NOPE}", "${oc.env:DLX_NOPE,3}", "${", "}", "$",
    "${oc.decode:'[1,2]'}", "???", "null", "None", "true", "True", "yes", "1e3", "0x10", "1_000", "ünïcödé", "零",
    "sub/dir",  # relative: stays inside
]  # fmt: skip
REAL_WORDS = [
    "cnn", "mlp", "l2", "dropout", "flip", "sgd", "adam", "batch", "layer", "none", "relu", "gelu", "kaiming", "xavier",
    "orthogonal", "standard", "minmax", "drop", "impute", "cpu", "gpu", "auto", "16-true", "bf16-true", "64-true",
    "16-mixed", "bf16-mixed", "val/loss", "val/acc", "norm", "value", "fine", "coarse", "backbone", "data", "runs",
]  # fmt: skip
# Values of the right type and near the real ones: they get past type checks and into building and training.
PLAUSIBLE = ["0", "1", "2", "3", "4", "0.0", "1e-4", "0.01", "0.3", "0.99", "1.0", "2.0", "1e6", "1e30", "1e38"]


def quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def plausible(default: Any) -> st.SearchStrategy[str]:
    """Values of the default's type and near it: they pass the type checks and reach building and training."""
    if isinstance(default, bool):
        return st.sampled_from(["true", "false"])
    if isinstance(default, int):
        return st.sampled_from(["0", "1", "2", "3", str(default), str(2 * default)])
    if isinstance(default, float):
        return st.sampled_from(["0.0", "1e-4", "0.01", "0.3", "0.99", "1.0", "2.0", repr(default), "1e38"])
    if isinstance(default, str):
        return st.sampled_from([quoted(default), *REAL_WORDS])
    if isinstance(default, list):
        items = ",".join(quoted(v) if isinstance(v, str) else str(v) for v in default)
        return st.sampled_from(["[]", f"[{items}]"])
    return st.sampled_from(PLAUSIBLE + REAL_WORDS + ["null"])


plain_values = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.sampled_from(REAL_WORDS),
    st.integers(-3, 40).map(str),
    st.sampled_from(HUGE_INTS).map(str),
    st.sampled_from(SPECIAL_FLOATS),
    st.floats(-10, 10, allow_nan=False).map(repr),
    st.sampled_from(["null", "true", "false", "True", "NULL"]),
    st.text(SAFE_CHARS, max_size=10),
    st.text(SAFE_CHARS, max_size=10).map(quoted),
    st.sampled_from(TRICKY_STRINGS),
    st.sampled_from(TRICKY_STRINGS).map(quoted),
)
values = st.recursive(
    plain_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.dictionaries(st.sampled_from(["a", "b", "_target_", "width", "x"]), inner, max_size=2).map(
            lambda d: "{" + ",".join(f"{k}:{v}" for k, v in d.items()) + "}"
        ),
    ),
    max_leaves=4,
)


# --- keys and overrides ---------------------------------------------------------------------------------------


@st.composite
def misspelled(draw, keys: list[str]) -> str:
    key = draw(st.sampled_from(keys))
    i = draw(st.integers(0, len(key) - 1))
    edit = draw(st.sampled_from(["drop", "double", "swap", "upper", "letter"]))
    if edit == "drop":
        return key[:i] + key[i + 1 :]
    if edit == "double":
        return key[:i] + key[i] + key[i:]
    if edit == "swap":
        return key[:i] + key[i + 1 : i + 2] + key[i : i + 1] + key[i + 2 :]
    if edit == "upper":
        return key.upper()
    return key[:i] + draw(st.sampled_from("xqz_")) + key[i:]


def group_choices(options: dict[str, list[str]]) -> st.SearchStrategy[str]:
    groups = sorted(options)
    bogus = st.sampled_from(["nope", "CNN", "", "null", "none", "default", "l2 ", "[]", "[nope]", "${seed}"])

    @st.composite
    def choice(draw) -> str:
        group = draw(st.sampled_from([*groups, "nogroup", "Model"]))
        real = options.get(group) or ["nope"]
        option = draw(st.one_of(st.sampled_from(real), bogus))
        if group in LIST_GROUPS or draw(st.integers(0, 9)) == 0:  # a list, now and then even for a single choice
            picked = draw(st.lists(st.one_of(st.sampled_from(real), bogus), max_size=3))
            option = draw(st.sampled_from([option, "[" + ",".join(picked) + "]"]))
        prefix = draw(st.sampled_from(["", "", "", "+", "~", "++"]))
        return f"~{group}" if prefix == "~" and draw(st.booleans()) else f"{prefix}{group}={option}"

    return choice()


@st.composite
def overrides(draw, keys: dict[str, Key], options: dict[str, list[str]]) -> list[str]:
    """1-5 overrides, most of them on one or two keys (so a case also sets, deletes and re-adds the same key),
    often after the group choice that brings the key in (model=resnet model.width=...)."""
    names = sorted(keys)
    focus = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2))
    chosen = [draw(st.sampled_from(keys[k].owners)) for k in focus if keys[k].owners and draw(st.booleans())]
    if draw(st.integers(0, 2)) == 0:  # a third of the cases: plausible values only, many of which train
        return [*chosen, *(f"{k}={draw(plausible(keys[k].default))}" for k in focus)]
    real = st.one_of(st.sampled_from(focus), st.sampled_from(names))
    ident = st.text(string.ascii_lowercase + "_", min_size=1, max_size=6)
    one = st.one_of(
        st.builds("{}={}".format, real, values),
        st.builds("{}={}".format, real, st.sampled_from(PLAUSIBLE + REAL_WORDS)),
        st.builds("{}={}".format, misspelled(names), values),
        st.builds("{}.{}={}".format, real, ident, values),
        st.builds("+{}.{}={}".format, ident, ident, values),
        st.builds("+{}={}".format, real, values),
        st.builds("++{}={}".format, real, values),
        st.builds("~{}".format, real),
        st.builds("~{}={}".format, real, values),
        group_choices(options),
    )
    return [*chosen, *draw(st.lists(one, min_size=1, max_size=4))]


# --- the property ---------------------------------------------------------------------------------------------


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    from dlx.train.command import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check_outcome(code: int, out: str, err: str, runs: Path) -> str:
    """'trained' or 'config error'; an AssertionError for anything else."""
    assert "Traceback" not in out + err, err
    made = run_dirs(runs)
    if code == 0:
        assert len(made) == 1, made
        assert (made[0] / "status").read_text().startswith("completed")
        assert (made[0] / "report.json").is_file()
        return "trained"
    assert code == 2, f"exit code {code}: {err}"
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(INFO_PREFIXES)]
    assert len(lines) == 1 and lines[0].startswith("dlx train: config error: "), err
    assert made == [], f"a bad config left run directories behind: {made}"
    return "config error"


def test_random_overrides_train_or_exit_2_with_one_line(tmp_path: Path):
    counts = Counter()
    keys, options = known_keys(), group_options()

    @settings(
        max_examples=scale("DLX_FUZZ_CASES", 25),  # make reliability: 500
        deadline=None,
        derandomize=True,  # the same cases on every machine: a failure in CI is a failure here
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(overrides(keys, options))
    def case(fuzzed: list[str]) -> None:
        counts["tried"] += 1
        runs = Path("runs") / str(counts["tried"])
        code, out, err = run_in_process([*fuzzed, *SMOKE_SIZE, f"++runs_dir={runs}"])
        counts[check_outcome(code, out, err, runs)] += 1
        counts["ok"] += 1

    try:
        with inside(tmp_path):
            case()
    finally:
        record("bad inputs handled", counts["tried"], counts["ok"])
        print(f"fuzz: {counts['trained']} trained, {counts['config error']} config errors (exit 2, one line)")


# What the fuzzer found, kept as plain cases: each exited 1 or crashed with a traceback before its fix (the last
# two named the wrong thing: "reg: unknown key; did you mean 'resume'?").
FOUND = [
    (["aug=0"], "aug: got 0, expected an option name or a list of names; valid options: brightness,"),
    (["~imbalance=[[],[]]"], "imbalance: got [[],[]], expected an option name"),
    (["reg=[[l2]]"], "reg: got [[l2]], expected an option name"),
    (["data=null"], "data: got null, expected an option name"),
    (["~sched.warmup_epochs", "sched.warmup_epochs=2"], "sched.warmup_epochs: removed by another override"),
    (["model.width=[1,2]", "model.width.a=3"], "model.width.a=3: cannot be applied (ValueError: invalid literal"),
    (["~data"], "data: is required but missing: choose an option with data=NAME"),
    (["~trainer"], "trainer._target_: is required but missing"),  # the smoke size adds trainer.max_epochs back
    (["~seed"], "seed: is required but missing"),
    (["~model._target_"], "model._target_: is required but missing"),
    (["model.width=${nope}"], "model.width: cannot resolve its value: Interpolation key 'nope' not found"),
    (["seed=4294967296"], "seed: got 4294967296, expected a value with 0 <= x <= 4294967295"),
    (["name=.."], "name: got '..', expected a name inside runs_dir"),
    (["model.width=1000000000000"], "model: as configured needs more memory than this machine has"),
    (["optim.lr=1e38"], "optim.lr: got 1e+38, expected a value with 0 < x <= 1000000.0"),
    (["model.dropout=nan"], "model.dropout: got nan, expected a finite number"),
    (["trainer.accelerator=cpu", "trainer.devices=100000"], "trainer.devices: 100000: this machine has"),
    (["++trainer.limit_test_batches=0"], "trainer.limit_test_batches: got 0, expected a value with 1 <= x"),
    (["++trainer.limit_train_batches=0.0001"], "trainer.limit_train_batches: 0.0001 of 20 train batches is less"),
    (["model=mlp", "reg=[batchnorm]", "data.batch_size=1"], "data.batch_size: 1 cannot train this model"),
    (["model=mlp", "reg=[batchnorm]", "data.batch_size=4"], "data.batch_size: 4 leaves a last batch of one sample"),
    (["reg.mixup.alpha=0.5"], "reg.mixup.alpha: no reg option is chosen; choose one first (reg=[mixup])"),
    (["aug.flip.p=0.5"], "aug.flip.p: no aug option is chosen; choose one first (aug=[flip])"),
]
# ... and these crashed after training, in the report; they run now.
FOUND_RUNNING = [["trainer.precision=64-true"], ["trainer.precision=bf16-true"]]


def smoke_sized(overrides: list[str]) -> list[str]:
    """The case's overrides, then the smoke size: but a case about a trainer limit keeps its own."""
    own = {o.split("=", 1)[0].lstrip("+") for o in overrides}
    return [*overrides, *(o for o in SMOKE_SIZE if o.split("=", 1)[0].lstrip("+") not in own)]


@pytest.mark.parametrize(("overrides", "message"), FOUND)
def test_what_the_fuzzer_found_is_a_config_error(overrides, message, tmp_path: Path):
    with inside(tmp_path):
        code, out, err = run_in_process([*smoke_sized(overrides), "++runs_dir=runs"])
    assert check_outcome(code, out, err, tmp_path / "runs") == "config error"
    assert message in err, err


@pytest.mark.parametrize("overrides", FOUND_RUNNING)
def test_what_the_fuzzer_found_now_trains(overrides, tmp_path: Path):
    with inside(tmp_path):
        code, out, err = run_in_process([*smoke_sized(overrides), "++runs_dir=runs"])
    assert check_outcome(code, out, err, tmp_path / "runs") == "trained", err
