"""2D tracks to root-relative 3D: the lifter around the network (lifter), the skeleton and its
bone lengths, the upright frame.
"""
