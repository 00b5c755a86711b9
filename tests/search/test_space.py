import optuna
import pytest

from dlx.config.errors import ConfigError
from dlx.search.space import parse_dimension, parse_space
from dlx.search.spec import make_pruner, make_sampler, search


@pytest.mark.parametrize(
    ("text", "kind", "args"),
    [
        ("loguniform(1e-4, 1e-1)", "loguniform", (1e-4, 0.1)),
        ("uniform(0, 0.5)", "uniform", (0.0, 0.5)),
        ("int(8, 64)", "int", (8, 64, False)),
        ("int(8, 64, log)", "int", (8, 64, True)),
        ("choice(cnn, resnet)", "choice", ("cnn", "resnet")),
        ("choice(1, 2.5, true)", "choice", (1, 2.5, True)),
    ],
)
def test_forms_parse(text, kind, args):
    d = parse_dimension("k", text)
    assert (d.kind, d.args) == (kind, args)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("uniform(0.5, 0.5)", r"the range 0.5..0.5 is empty or inverted"),
        ("int(10, 2)", r"the range 10..2 is empty or inverted"),
        ("loguniform(0, 1)", r"a log-scale range needs a positive low bound; got 0"),
        ("int(0, 8, log)", r"a log-scale range needs a positive low bound"),
        ("int(1.5, 4)", r"int\(...\) needs whole numbers"),
        ("normal(0, 1)", r"write choice\(a, b, ...\)"),
        ("choice()", r"choice\(\) needs at least one value"),
        ("uniform(a, b)", r"needs two numbers"),
    ],
)
def test_bad_dimensions_name_the_key(text, message):
    with pytest.raises(ConfigError, match=r"^search.space.k: .*" + message):
        parse_dimension("k", text)


def test_an_empty_space_and_an_unlogged_objective_are_refused():
    with pytest.raises(ConfigError, match=r"^search.space: is empty"):
        parse_space({})
    with pytest.raises(ConfigError, match=r"^search.objective: training never logs 'test_f1'"):
        search(space={"optim.lr": "uniform(0.1, 0.2)"}, objective="test_f1")


def test_grid_covers_every_point_and_refuses_float_ranges():
    spec = search(space={"a": "choice(1, 2)", "b": "int(1, 3)"}, sampler="grid", n_trials=100)
    assert spec.n_trials == 6, "the budget shrinks to the grid's size"
    study = optuna.create_study(sampler=make_sampler(spec))
    study.optimize(lambda t: t.suggest_categorical("a", [1, 2]) + t.suggest_categorical("b", [1, 2, 3]), n_trials=6)
    assert sorted((t.params["a"], t.params["b"]) for t in study.trials) == [(a, b) for a in (1, 2) for b in (1, 2, 3)]
    with pytest.raises(ConfigError, match=r"a grid needs choice"):
        search(space={"lr": "uniform(0.1, 0.2)"}, sampler="grid")


@pytest.mark.parametrize("name", ["random", "tpe", "bayes", "cmaes"])
def test_every_sampler_is_seeded(name):
    spec = search(space={"x": "uniform(-1, 1)", "y": "uniform(-1, 1)"}, sampler=name, sampler_seed=3)

    def run():
        study = optuna.create_study(sampler=make_sampler(spec))
        study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2 + t.suggest_float("y", -1, 1) ** 2, n_trials=6)
        return [t.params for t in study.trials]

    assert run() == run()


def test_pruners_are_optunas():
    spec = search(space={"x": "uniform(0, 1)"}, pruner="hyperband")
    assert isinstance(make_pruner(spec, 9), optuna.pruners.HyperbandPruner)
    spec = search(space={"x": "uniform(0, 1)"}, pruner="successive_halving")
    assert isinstance(make_pruner(spec, 9), optuna.pruners.SuccessiveHalvingPruner)
