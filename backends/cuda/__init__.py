"""CUDA C++ kernel skeletons from warp-specialized `warp` IR (see skeleton.py)."""
