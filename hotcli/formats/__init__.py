"""Files in and out: video decoding and encoding, the pose result files, BVH, Blender import."""
