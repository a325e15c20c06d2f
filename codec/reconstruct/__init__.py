"""Spikes -> scenes: TFP, TFI and the learned reconstruction network.

Scene ``i`` is centred on plane ``C0 + i*K`` (default ``C0 = K//2``); a scene value
is a firing rate (spikes/plane) times a sensor gain, clipped to ``[0, 1]``.
"""

from codec.reconstruct.base import Reconstructor
from codec.reconstruct.registry import RECONSTRUCTORS, get_reconstructor
from codec.reconstruct.stream import SceneStream, iter_scenes, reconstruct_at
from codec.reconstruct.windows import scene_block, scene_centres

__all__ = ["RECONSTRUCTORS", "Reconstructor", "SceneStream", "get_reconstructor", "iter_scenes", "reconstruct_at",
           "scene_block", "scene_centres"]
