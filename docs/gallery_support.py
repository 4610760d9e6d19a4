"""How the documentation's gallery runs the scripts in ``examples/`` and finds their figures.

sphinx-gallery names these functions by their import path in ``conf.py`` (so its configuration stays
picklable and Sphinx can cache the build environment).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

FIGURES = Path(__file__).resolve().parent / "_build" / "gallery_figures"


def small() -> bool:
    """Whether the gallery runs the scripts with ``--small`` (``NEWTONOPT_DOCS_SMALL=1``)."""
    return os.environ.get("NEWTONOPT_DOCS_SMALL", "") not in ("", "0")


def _folder(src_file) -> Path:
    return FIGURES / Path(src_file).stem


def example_argv(gallery_conf, script_vars) -> list[str]:
    """The command line each example gets: its own, emptied figure folder, and ``--small`` when asked for."""
    folder = _folder(script_vars["src_file"])
    shutil.rmtree(folder, ignore_errors=True)
    # Relative to the script's folder, where it runs, so the page shows no path of the machine that built it.
    return [os.path.relpath(folder, Path(script_vars["src_file"]).parent), *(["--small"] if small() else [])]


def saved_figures(block, block_vars, gallery_conf) -> str:
    """Image scraper for the files the examples write with ``savefig`` (``examples/_common.save``).

    The scripts save, and sometimes close, their figures, so matplotlib's own scraper would miss some
    and show others twice. After each code block this one moves every PNG or GIF the script wrote to its
    folder into the gallery, in the order written, each at full width.
    """
    from sphinx_gallery.scrapers import figure_rst

    folder = _folder(block_vars["src_file"])
    written = sorted((p for p in folder.glob("*") if p.suffix in (".png", ".gif")),
                     key=lambda p: (p.stat().st_mtime_ns, p.name))
    paths = []
    for source, target in zip(written, block_vars["image_path_iterator"]):
        target = Path(target).with_suffix(source.suffix)
        shutil.move(source, target)
        paths.append(str(target))
    # One full-width image each: sphinx-gallery would set several side by side at thumbnail size.
    return "".join(figure_rst([path], gallery_conf["src_dir"]) for path in paths)
