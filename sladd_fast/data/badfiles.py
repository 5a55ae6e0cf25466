"""The dataset's list of files known not to decode: ROOT/bad_files.json, read by the index builders.

Each tool that finds unreadable files writes its own entry, replacing its previous one (so a rerun
after a repair clears it): the landmark CLI ("landmarks"), pack for its source root ("pack") and
``python -m sladd_fast.pack --verify ROOT`` ("verify", every frame and mask decoded in full). The
index builders leave every listed frame (or fake whose mask is listed) out, counted as
``skipped["unreadable"]``. Paths are relative to ROOT with '/' separators.
"""
from __future__ import annotations

import json
import os
from typing import Iterable

BAD_FILES = "bad_files.json"


def _path(root: str) -> str:
    return os.path.join(root, BAD_FILES)


def _sources(data: object) -> dict[str, list[str]]:
    """The {tool: [files]} of a parsed list; ValueError saying what is wrong with its shape."""
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        raise ValueError('expected {"sources": {tool: [files]}}')
    for tool, files in sources.items():
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ValueError(f"sources[{tool!r}] is not a list of file names")
    return sources


def load(root: str) -> frozenset[str]:
    """Every file any tool listed for ``root`` (empty when there is no list). A list that is not
    valid JSON, or not of the shape the tools write, is a ValueError naming it."""
    path = _path(root)
    if not os.path.isfile(path):
        return frozenset()
    try:
        with open(path) as f:
            sources = _sources(json.load(f))
    except ValueError as e:
        raise ValueError(f"{path}: not a bad-file list ({e}); delete it and rerun the tool that wrote it") from None
    return frozenset(p for files in sources.values() for p in files)


def record(root: str, source: str, files: Iterable[str]) -> None:
    """Sets ``source``'s list of unreadable files for ``root`` (an empty list removes the entry)."""
    path = _path(root)
    data: dict = {"sources": {}}
    if os.path.isfile(path):
        try:
            with open(path) as f:
                data = {"sources": _sources(json.load(f))}
        except ValueError:
            pass  # a damaged or malformed list is rewritten (the other tools' entries with it)
    files = sorted({f.replace(os.sep, "/") for f in files})
    if files:
        data["sources"][source] = files
    else:
        data["sources"].pop(source, None)
    if not data["sources"]:
        if os.path.isfile(path):
            os.remove(path)
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)
