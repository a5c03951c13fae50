"""Benchmarks behind ``hot-pose bench`` and ``hot-pose export --bench``: the lifter, the 2D
stage, exported pose models, the renderer, the peer MediaPipe.
"""
