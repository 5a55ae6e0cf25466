"""The README's runnable example runs as written (a doc snippet that drifts from the API fails here)."""
from __future__ import annotations

import os
import re

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def _block_after(marker: str) -> str:
    text = open(README).read()
    at = text.index(marker)
    m = re.compile(r"```python\n(.*?)```", re.S).search(text, at)
    assert m is not None, f"no python block after {marker!r}"
    return m.group(1)


def test_readme_forgery_example_runs(capsys):
    code = _block_after("A forgery batch in a few lines")
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102  the README's own example, replay assert included
    out = capsys.readouterr().out
    assert "torch.Size([8, 3, 256, 256]) torch.uint8 torch.Size([8, 1, 256, 256])" in out
