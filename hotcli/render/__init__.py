"""Pictures of the motion: the rendered video and GIF (renderer), the 3D view (draw3d), joint-
angle plots (plots).
"""
