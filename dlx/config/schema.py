"""Types for builder signatures: the signature is the schema, these add ranges.

    def cnn(in_shape, num_classes, dropout: Probability = 0.0): ...

`validate.py` checks a YAML node against such a signature without calling it.
"""

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

# Parameters a builder receives from other parts of the experiment, never from YAML.
INJECTED = frozenset({"in_shape", "num_classes", "params", "optimizer", "total_epochs", "seed", "callbacks"})
