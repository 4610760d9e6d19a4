"""The leaf layer: arithmetic the package owns (fixed-order reductions) and the Schedule base.

Imports nothing of newtonopt outside core.
"""
