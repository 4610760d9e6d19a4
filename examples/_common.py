"""Shared command-line handling for the examples: an output folder and a --small switch."""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the examples write PNG files; they never need a window


def setup(doc: str) -> tuple[Path, bool]:
    """Parse ``[outdir] [--small]``; return the output folder (created) and whether to run small."""
    # The gallery of the documentation runs the scripts without their docstring (doc is then empty).
    parser = argparse.ArgumentParser(description=(doc.strip().splitlines() or [""])[0])
    parser.add_argument("outdir", nargs="?", default=None,
                        help="folder for the figures (default: the folder of this script)")
    parser.add_argument("--small", action="store_true", help="small sizes, for a quick test run")
    args = parser.parse_args()
    out = Path(args.outdir) if args.outdir else Path(__file__).resolve().parent / "figures"
    out.mkdir(parents=True, exist_ok=True)
    return out, args.small


def save(fig, out: Path, name: str) -> Path:
    path = out / name
    fig.savefig(path, dpi=130)
    print(f"wrote {path}")
    return path
