"""OpenCV's cv2.line(img, a, b, 1, thickness=2) (LINE_8, shift 0) and cv2.fillConvexPoly (LINE_8, shift 0
or 16) in plain Python integers.

The reference for the region masks (spec §3.1): SLADD draws each key-point segment with that call
before dilating it, and the pixels it sets decide the region's edge. cv2 (<= 4.12, SLADD's 4.5.1)
builds a thick line as: the quadrilateral a +- dp, b +- dp with dp the unit normal in 16.16 fixed
point, filled by FillConvexPoly (edges traced by the fixed-point DDA "Line2", then scanline spans),
plus a radius-1 filled circle (a plus sign) at each end. Integer arithmetic as in C (truncating
division, arithmetic shifts); double precision where cv2 uses it (the normal, line clipping).
OpenCV 4.13+ first clips far-away endpoints (opencv PR 27366), which moves pixels only for
segments that leave the image. The hull masks fill cv2.convexHull's polygon with fillConvexPoly,
whose edges are Line (Bresenham) for shift=0 and Line2 for shift=16. Slow by design: used by the
tests and the reference backend.
"""
from __future__ import annotations

import math

SHIFT = 16
ONE = 1 << SHIFT
HALF = ONE >> 1
DBL_EPSILON = 2.220446049250313e-16


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _clip_line(w: int, h: int, x1: int, y1: int, x2: int, y2: int) -> tuple[bool, int, int, int, int]:
    """cv::clipLine(Size2l) with double intermediate products (OpenCV >= 3.3)."""
    right, bottom = w - 1, h - 1

    def code(x: int, y: int) -> int:
        return (x < 0) + (x > right) * 2 + (y < 0) * 4 + (y > bottom) * 8

    c1, c2 = code(x1, y1), code(x2, y2)
    if (c1 & c2) == 0 and (c1 | c2) != 0:
        if c1 & 12:
            a = 0 if c1 < 8 else bottom
            x1 += int(float(a - y1) * (x2 - x1) / (y2 - y1))
            y1, c1 = a, (x1 < 0) + (x1 > right) * 2
        if c2 & 12:
            a = 0 if c2 < 8 else bottom
            x2 += int(float(a - y2) * (x2 - x1) / (y2 - y1))
            y2, c2 = a, (x2 < 0) + (x2 > right) * 2
        if (c1 & c2) == 0 and (c1 | c2) != 0:
            if c1:
                a = 0 if c1 == 1 else right
                y1 += int(float(a - x1) * (y2 - y1) / (x2 - x1))
                x1, c1 = a, 0
            if c2:
                a = 0 if c2 == 1 else right
                y2 += int(float(a - x2) * (y2 - y1) / (x2 - x1))
                x2, c2 = a, 0
    return (c1 | c2) == 0, x1, y1, x2, y2


def _fixed_line(put, size: int, p1: tuple[int, int], p2: tuple[int, int]) -> None:
    """cv Line2: 8-connected DDA between 16.16 fixed-point points, clipped to the image."""
    ok, x1, y1, x2, y2 = _clip_line(size << SHIFT, size << SHIFT, *p1, *p2)
    if not ok:
        return
    dx, dy = x2 - x1, y2 - y1
    x_major = abs(dx) > abs(dy)
    if x_major:
        if dx < 0:
            dy, (x1, y1, x2, y2) = -dy, (x2, y2, x1, y1)
        step = _cdiv(dy << SHIFT, abs(dx) | 1)
        count = (x2 - x1) >> SHIFT
    else:
        if dy < 0:
            dx, (x1, y1, x2, y2) = -dx, (x2, y2, x1, y1)
        step = _cdiv(dx << SHIFT, abs(dy) | 1)
        count = (y2 - y1) >> SHIFT
    x1, y1 = x1 + HALF, y1 + HALF
    put((x2 + HALF) >> SHIFT, (y2 + HALF) >> SHIFT)
    if x_major:
        x1 >>= SHIFT
        for _ in range(count + 1):
            put(x1, y1 >> SHIFT)
            x1, y1 = x1 + 1, y1 + step
    else:
        y1 >>= SHIFT
        for _ in range(count + 1):
            put(x1 >> SHIFT, y1)
            x1, y1 = x1 + step, y1 + 1


def _int_line(put, size: int, p1: tuple[int, int], p2: tuple[int, int]) -> None:
    """cv Line(LINE_8) between integer points: LineIterator's 8-connected Bresenham, left to right,
    after clipLine to the image (FillConvexPoly's edges for shift=0)."""
    ok, x1, y1, x2, y2 = _clip_line(size, size, *p1, *p2)
    if not ok:
        return
    if x2 < x1:
        x1, y1, x2, y2 = x2, y2, x1, y1
    dx, dy = x2 - x1, y2 - y1
    sy = -1 if dy < 0 else 1
    dy = abs(dy)
    vert = dy > dx
    major, minor = (dy, dx) if vert else (dx, dy)
    err, x, y = major - 2 * minor, x1, y1
    for _ in range(major + 1):
        put(x, y)
        step = err < 0
        err += 2 * major * step - 2 * minor
        if vert:
            x, y = x + step, y + sy
        else:
            x, y = x + 1, y + sy * step


def _fill_convex(put_span, put, size: int, v: list[tuple[int, int]], integer_edges: bool = False) -> None:
    """cv FillConvexPoly(v, LINE_8) for 16.16 fixed-point vertices: the edges v[i-1] -> v[i] traced with
    Line2 (shift=16) or, when integer_edges, with Line (shift=0; the vertices whole pixels), then for
    three or more vertices one span per row between two edge walkers whose x starts at the edge's
    first vertex (not at the row). Rows above the image are skipped in one step, as the kernels do."""
    n = len(v)
    if n == 0:
        return
    p0 = v[-1]
    imin = 0
    for i, p in enumerate(v):
        if p[1] < v[imin][1]:
            imin = i
        if integer_edges:
            _int_line(put, size, (p0[0] >> SHIFT, p0[1] >> SHIFT), (p[0] >> SHIFT, p[1] >> SHIFT))
        else:
            _fixed_line(put, size, p0, p)
        p0 = p
    if n < 3:
        return
    xs_all, ys_all = [p[0] for p in v], [p[1] for p in v]
    xmin, xmax = (min(xs_all) + HALF) >> SHIFT, (max(xs_all) + HALF) >> SHIFT
    ymin, ymax = (min(ys_all) + HALF) >> SHIFT, (max(ys_all) + HALF) >> SHIFT
    if xmax < 0 or ymax < 0 or xmin >= size or ymin >= size:
        return
    ymax = min(ymax, size - 1)
    edge = [{"idx": imin, "di": 1, "x": -ONE, "dx": 0, "ye": ymin},
            {"idx": imin, "di": n - 1, "x": -ONE, "dx": 0, "ye": ymin}]
    edges_left = n
    y = ymin
    while True:
        for e in edge:
            if y >= e["ye"]:
                idx0 = e["idx"]
                idx = (idx0 + e["di"]) % n
                while True:
                    edges_left -= 1
                    if edges_left < 0:
                        break
                    ty = (v[idx][1] + HALF) >> SHIFT
                    if ty > y:
                        e.update(ye=ty, dx=_cdiv((v[idx][0] - v[idx0][0]) * 2 + (ty - y), 2 * (ty - y)),
                                 x=v[idx0][0], idx=idx)
                        break
                    idx0, idx = idx, (idx + e["di"]) % n
        if edges_left < 0:
            break
        step = 1
        if y >= 0:
            lo, hi = sorted((edge[0]["x"], edge[1]["x"]))
            put_span(y, (lo + HALF) >> SHIFT, (hi + HALF) >> SHIFT)
        else:  # above the image: straight on to the next edge change or row 0
            step = max(min(edge[0]["ye"], edge[1]["ye"], 0) - y, 1)
        edge[0]["x"] += edge[0]["dx"] * step
        edge[1]["x"] += edge[1]["dx"] * step
        y += step
        if y > ymax:
            break


def _span_sink(size: int):
    """(spans, put_span): put_span(y, x0, x1) appends the part of a span inside the size x size image."""
    spans: list[tuple[int, int, int]] = []

    def put_span(y: int, x0: int, x1: int) -> None:
        if 0 <= y < size and x1 >= 0 and x0 < size and x0 <= x1:
            spans.append((y, max(x0, 0), min(x1, size - 1)))

    return spans, put_span


def fill_convex_poly(v: list[tuple[int, int]], size: int, integer_edges: bool = False) -> list[tuple[int, int, int]]:
    """Pixels of cv2.fillConvexPoly(img, v, 1, LINE_8, shift) on a size x size image, as row spans.

    Args:
        v: vertices (x, y) in 16.16 fixed point, in drawing order (cv2.convexHull's for a hull).
        size: side of the square image.
        integer_edges: shift=0 (every vertex a whole pixel: a multiple of 65536): edges by Line;
            else shift=16: edges by Line2.

    Returns:
        [(y, x0, x1), ...] inclusive spans inside the image, possibly overlapping.
    """
    spans, put_span = _span_sink(size)
    _fill_convex(put_span, lambda x, y: put_span(y, x, x), size, list(v), integer_edges)
    return spans


def thick_line(a: tuple[int, int], b: tuple[int, int], size: int) -> list[tuple[int, int, int]]:
    """Pixels of cv2.line(img, a, b, 1, thickness=2) on a size x size image, as row spans.

    Args:
        a, b: integer endpoints (x, y), any value (pixels outside the image are dropped).
        size: side of the square image.

    Returns:
        [(y, x0, x1), ...] inclusive spans inside the image, possibly overlapping.
    """
    spans, put_span = _span_sink(size)

    def put(x: int, y: int) -> None:
        put_span(y, x, x)

    ax, ay, bx, by = a[0] << SHIFT, a[1] << SHIFT, b[0] << SHIFT, b[1] << SHIFT
    dx, dy = float(a[0] - b[0]), float(b[1] - a[1])
    r = dx * dx + dy * dy
    if abs(r) > DBL_EPSILON:
        r = ONE / math.sqrt(r)  # half-thickness 1 px in 16.16
        px, py = round(dy * r), round(dx * r)  # Python rounds half to even, as cvRound does
        _fill_convex(put_span, put, size, [(ax + px, ay + py), (ax - px, ay - py), (bx - px, by - py),
                                           (bx + px, by + py)])
    for cx, cy in (a, b):  # Circle(radius 1, filled): a plus sign
        put_span(cy, cx - 1, cx + 1)
        put(cx, cy - 1)
        put(cx, cy + 1)
    return spans
