"""Checks the command-line tools share: argparse types for counts, and output paths checked before
long work, so that a bad argument is a one-line error (status 2), not a crash deep inside or lost results."""
from __future__ import annotations

import argparse
import os
from typing import Callable


def at_least(lo: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``lo`` (a batch, a worker count or timed iterations below it give
    nothing usable, so it is an argument error, not a clamp)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be >= {lo}, got {value}")
        return value

    return parse


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and status 2 (the usage block buried the message),
    ending with ``hint`` (where the flags are listed)."""

    def __init__(self, *args, hint: str = "--help lists the flags", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hint = hint

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} ({self.hint})\n")


def check_output(ap: argparse.ArgumentParser, label: str, path: str | None, folder: bool = False) -> None:
    """``ap.error("LABEL PATH: why")`` where ``path`` cannot be written (output_problem); nothing for
    None. Checked before the work, not after it, where a bad path loses the results."""
    problem = output_problem(path, folder) if path is not None else None
    if problem:
        ap.error(f"{label} {path}: {problem}")


def output_problem(path: str, folder: bool = False) -> str | None:
    """Why ``path`` cannot be written (a file, or with ``folder`` a folder, created with its missing
    parents), or None: it must not be of the other kind, and its nearest existing ancestor must be a
    writable folder."""
    if os.path.exists(path):
        if folder != os.path.isdir(path):
            return "is a file, not a folder" if folder else "is a folder; give a file name"
        top = path if folder else os.path.dirname(os.path.abspath(path))
    else:
        top = os.path.dirname(os.path.abspath(path))
        while not os.path.exists(top):
            top = os.path.dirname(top)
    if not os.path.isdir(top):
        return f"{top} is a file, not a folder"
    if not os.access(top, os.W_OK):
        return f"{top} is not writable"
    return None
