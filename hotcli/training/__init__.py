"""Training and scoring the lifter on Human3.6M: clips and augmentations (data), the training
loop, evaluation, metrics.
"""
