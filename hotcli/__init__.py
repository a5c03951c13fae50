"""hot-pose: 3D human motion from ordinary video with a HoT-pruned MixSTE lifter."""

__version__ = "0.1.0"
