"""dlx.args: a usage error of any command is one line naming the problem and where the usage is, exit 2."""

import pytest

from dlx.cli import main


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["nope"], "dlx: error: argument COMMAND: invalid choice: 'nope'"),
        (["predict", "latest"], "dlx predict: error: the following arguments are required: inputs"),
        (["data"], "dlx data: error: "),
        (["list", "model", "--colour"], "dlx list: error: unrecognized arguments: --colour"),
        (["ensemble"], "dlx ensemble: error: "),
        (["show", "a", "b"], "dlx show: error: unrecognized arguments: b"),
    ],
)
def test_a_usage_error_is_one_line_exit_2(argv, start, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert stop.value.code == 2 and out.out == "", out
    assert len(lines) == 1 and lines[0].startswith(start), lines
    assert lines[0].endswith(f"; see {start.split(': ')[0]} --help")
