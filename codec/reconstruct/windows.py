"""Where scenes sit in a spike stream.

Scene ``i`` is centred on plane ``C0 + i*K`` (``K`` = window, default
``C0 = K//2``) and built from the block of ``K`` planes around it,
``[centre - K//2, centre - K//2 + K)``, clipped at the stream's edges. For odd
``K`` the block is symmetric; for even ``K`` it has one plane more before the
centre than after it.
"""

from __future__ import annotations

from codec.errors import SpikecodecError


def _check_window(window: int) -> None:
    if int(window) != window or window < 1:
        raise SpikecodecError(f"window must be a positive number of planes, got {window}")


def default_offset(window: int) -> int:
    """``C0 = K//2``: the first scene's centre plane when none is given."""
    _check_window(window)
    return window // 2


def scene_centres(num_planes: int, window: int, offset: int | None = None) -> list[int]:
    """Centre planes ``C0 + i*K`` that lie inside ``[0, num_planes)``.

    Args:
        num_planes: planes in the stream (``T >= 0``).
        window: ``K``, planes between consecutive scene centres (>= 1).
        offset: ``C0``, the first centre (>= 0); ``None`` for ``K//2``.

    Returns:
        Increasing list of plane indices (empty when ``C0 >= T``).
    """
    _check_window(window)
    if num_planes < 0:
        raise SpikecodecError(f"num_planes must be >= 0, got {num_planes}")
    first = default_offset(window) if offset is None else offset
    if int(first) != first or first < 0:
        raise SpikecodecError(f"offset must be a plane index >= 0, got {offset}")
    return list(range(int(first), num_planes, int(window)))


def block_extent(window: int) -> tuple[int, int]:
    """``(before, after)``: planes of a ``window``-plane block before and after its centre."""
    _check_window(window)
    before = window // 2
    return before, window - before - 1


def scene_block(num_planes: int, centre: int, window: int) -> tuple[int, int]:
    """Planes ``[start, stop)`` of the scene centred on ``centre``, clipped to the stream.

    Args:
        num_planes: planes in the stream.
        centre: the scene's centre plane, in ``[0, num_planes)``.
        window: ``K``; the unclipped block is ``[centre - K//2, centre - K//2 + K)``.
    """
    if not 0 <= centre < num_planes:
        raise SpikecodecError(f"centre {centre} outside the stream's {num_planes} planes")
    before, after = block_extent(window)
    return max(0, centre - before), min(num_planes, centre + after + 1)


def context_block(num_planes: int, centre: int, context: tuple[int, int]) -> tuple[int, int]:
    """Planes ``[start, stop)`` covering ``context = (before, after)`` around ``centre``, clipped."""
    if not 0 <= centre < num_planes:
        raise SpikecodecError(f"centre {centre} outside the stream's {num_planes} planes")
    before, after = context
    return max(0, centre - before), min(num_planes, centre + after + 1)
