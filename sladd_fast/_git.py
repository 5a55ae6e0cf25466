"""The source tree's git commit, recorded in run configs and benchmark JSON."""
from __future__ import annotations

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _git(*args: str, timeout: float) -> str | None:
    """stdout of ``git ARGS`` in the checkout sladd_fast runs from, or None (not a git checkout, no git)."""
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True,
                              timeout=timeout).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def git_sha() -> str:
    """HEAD of the checkout sladd_fast runs from, or "unknown" (not a git checkout, no git)."""
    out = _git("rev-parse", "HEAD", timeout=5)
    return (out or "").strip() or "unknown"


def git_dirty() -> bool | None:
    """Whether tracked files changed since git_sha, or None (not a git checkout, no git)."""
    out = _git("status", "--porcelain", "--untracked-files=no", timeout=10)
    return None if out is None else bool(out.strip())
