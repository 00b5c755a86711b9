"""Types for builder signatures: the signature is the schema, these add ranges.

    def cnn(in_shape, num_classes, dropout: Probability = 0.0): ...

`validate.py` checks a YAML node against such a signature without calling it.
"""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated


@dataclass(frozen=True)
class Range:
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def contains(self, v: float) -> bool:
        return not (
            (self.ge is not None and v < self.ge)
            or (self.gt is not None and v <= self.gt)
            or (self.le is not None and v > self.le)
            or (self.lt is not None and v >= self.lt)
        )

    def __str__(self) -> str:
        lo = f"{self.ge} <= " if self.ge is not None else f"{self.gt} < " if self.gt is not None else ""
        hi = f" <= {self.le}" if self.le is not None else f" < {self.lt}" if self.lt is not None else ""
        return f"{lo}x{hi}"


PositiveInt = Annotated[int, Range(ge=1)]
NonNegativeInt = Annotated[int, Range(ge=0)]
PositiveFloat = Annotated[float, Range(gt=0)]
NonNegativeFloat = Annotated[float, Range(ge=0)]
Probability = Annotated[float, Range(ge=0, le=1)]
# dropout, momentum, smoothing: 1.0 would zero or freeze everything
UnitInterval = Annotated[float, Range(ge=0, lt=1)]
OpenUnitInterval = Annotated[float, Range(gt=0, lt=1)]
# Far above any rate that trains: an optimizer step turns lr / (1 - beta1^t) into a float32, which lr=1e38 overflows.
LearningRate = Annotated[float, Range(gt=0, le=1e6)]
MinLearningRate = Annotated[float, Range(ge=0, le=1e6)]

# Parameters a builder receives from other parts of the experiment, never from YAML.
INJECTED = frozenset(
    {"in_shape", "num_classes", "params", "optimizer", "total_epochs", "steps_per_epoch", "seed", "callbacks"}
)


def with_common_options(finish: Callable) -> Callable[[Callable], Callable]:
    """Give a family of builders shared options that act on what they build.

    `finish(built, **options)` receives the builder's result; its other parameters become
    options of every decorated builder, in the signature, so validation binds them too:

        @with_common_options(finish_model)      # finish_model(net, init="default", freeze="none")
        def cnn(in_shape, num_classes, width: PositiveInt = 32): ...
    """
    finish_params = list(inspect.signature(finish).parameters.values())[1:]

    def decorate(builder: Callable) -> Callable:
        own = inspect.signature(builder).parameters
        extra = [p for p in finish_params if p.name not in own]
        names_for_finish = {p.name for p in finish_params}

        @functools.wraps(builder)
        def wrapper(**kwargs):
            built = builder(**{k: v for k, v in kwargs.items() if k in own})
            return finish(built, **{k: v for k, v in kwargs.items() if k in names_for_finish})

        params = [p.replace(kind=p.KEYWORD_ONLY) for p in [*own.values(), *extra]]
        wrapper.__signature__ = inspect.Signature(params)
        wrapper.__annotations__ = {**finish.__annotations__, **builder.__annotations__}
        wrapper.__annotations__.pop("return", None)
        return wrapper

    return decorate
