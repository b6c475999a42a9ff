"""2D front-ends for the lifter and the mapping of their keypoint formats to Human3.6M-17."""
