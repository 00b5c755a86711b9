"""What the reliability tests count, printed at the end of the session (conftest.py) and by each test as it ends.

    record("bad inputs handled", tried=500, ok=500)   ->   bad inputs handled 500/500, files lost 0

Sizes are small in `make test` and large in `make reliability`, which sets the environment variables.
"""

import os
from dataclasses import dataclass

# name -> counts, in the order first recorded; the terminal summary prints one line each.
TALLY: dict[str, "Count"] = {}


@dataclass
class Count:
    tried: int = 0
    ok: int = 0
    lost: int = 0

    def __str__(self) -> str:
        return f"{self.ok}/{self.tried}, files lost {self.lost}"


def scale(env_name: str, small: int) -> int:
    """How many cases to try: `small` unless the environment asks for more (make reliability)."""
    return int(os.environ.get(env_name, small))


def record(name: str, tried: int, ok: int, lost: int = 0) -> None:
    count = TALLY.setdefault(name, Count())
    count.tried, count.ok, count.lost = count.tried + tried, count.ok + ok, count.lost + lost
    # also on stdout: under pytest-xdist the terminal summary runs in the controller, which never sees TALLY
    print(f"\n{name} {Count(tried, ok, lost)}", flush=True)
