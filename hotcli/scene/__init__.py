"""Everyone in one world: the camera, pelvis paths, the ground plane, foot contact and lock."""
