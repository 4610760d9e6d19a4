"""The leaf layer: arithmetic the package owns (fixed-order reductions). Imports nothing of newtonopt."""
