"""sladd_fast.pack without DALI: argument errors, damaged masks and the bad-file list carried over
(the DALI read-back of packed frames is in test_pipelines.py, which needs DALI)."""
from __future__ import annotations

import os
import shutil

import pytest

pytest.importorskip("dlib")


@pytest.fixture(scope="module")
def demo_png(tmp_path_factory):
    from sladd_fast.data import demo

    root = str(tmp_path_factory.mktemp("pack") / "FF")
    demo.build(root, videos=6, frames=2, size=96, seed=2, landmarks=True, workers=2)
    return root


def test_pack_bad_arguments_leave_the_source_alone_and_masks_are_checked(demo_png, tmp_path, capsys):
    """--size 0 used to fail every frame and list them all in SRC's bad_files.json; a damaged mask was
    copied unchecked, and SRC's list of bad files did not reach DST."""
    from sladd_fast import pack
    from sladd_fast.data import badfiles

    src = str(tmp_path / "src")
    shutil.copytree(demo_png, src)
    for argv in ([src, str(tmp_path / "d0"), "--size", "0"], [src, str(tmp_path / "d1"), "--workers", "0"]):
        with pytest.raises(SystemExit) as e:
            pack.main(argv + ["--quiet"])
        assert e.value.code == 2 and argv[2] in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SystemExit) as e:
        pack.main([src, str(tmp_path / "afile"), "--quiet"])
    assert e.value.code == 2 and "is a file" in capsys.readouterr().err
    assert not os.path.exists(os.path.join(src, badfiles.BAD_FILES))
    masks = sorted(os.path.relpath(os.path.join(d, f), src) for d, _, fs in os.walk(os.path.join(src, "mask"))
                   for f in fs)
    with open(os.path.join(src, masks[0]), "r+b") as f:
        f.truncate(os.path.getsize(os.path.join(src, masks[0])) // 2)
    badfiles.record(src, "landmarks", ["image/real/000/0002.png"])  # a frame the landmark CLI could not read
    dst = str(tmp_path / "dst")
    assert pack.main([src, dst, "--quiet"]) == 1
    assert masks[0] in capsys.readouterr().err and not os.path.exists(os.path.join(dst, masks[0]))
    assert masks[0].replace(os.sep, "/") in badfiles.load(src)
    assert badfiles.load(dst) == {"image/real/000/0002.jpg", masks[0].replace(os.sep, "/")}  # left out there too
