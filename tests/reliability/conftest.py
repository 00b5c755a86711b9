"""Print the reliability figures (tally.py) after the test results: `make reliability` ends with them."""

from tests.reliability.tally import TALLY


def pytest_terminal_summary(terminalreporter) -> None:
    if not TALLY:
        return
    terminalreporter.write_sep("=", "reliability")
    for name, count in TALLY.items():
        terminalreporter.write_line(f"{name} {count}")
