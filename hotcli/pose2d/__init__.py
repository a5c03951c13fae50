"""Video frames to 2D tracks: the pose network (posenet, export), tracking, crops, fragment
joining, presence, keypoint layouts.
"""
