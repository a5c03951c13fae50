"""hot-pose: 3D human motion from ordinary video with a HoT-pruned MixSTE lifter.

``from hotcli import HotPose`` is the library (:mod:`hotcli.api`); ``hot-pose`` the command
line over it (:mod:`hotcli.cli`). Both names load lazily, so ``import hotcli`` stays light.
"""

__version__ = "0.1.0"
__all__ = ["HotPose", "VideoResult", "__version__"]


def __getattr__(name: str) -> object:
    if name in ("HotPose", "VideoResult"):
        from hotcli import api

        return getattr(api, name)
    raise AttributeError(f"module 'hotcli' has no attribute {name!r}")
