"""What the checker tests share: call a checker and read the one line it prints."""


def run(capsys, checker, *args, **kwargs):
    """(said "correct", the printed line) of ``checker(*args, **kwargs)``."""
    assert checker(*args, **kwargs) is None  # a notebook cell then shows only the message
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one message
    return out.startswith("correct"), out
