"""Sphinx configuration: the Markdown pages (MyST), the notebooks (myst-nb, never executed here), the
examples as a gallery (sphinx-gallery) and the API reference from the numpydoc docstrings.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (``pip install '.[docs]'``).
The gallery runs every script in ``examples/``; ``NEWTONOPT_DOCS_SMALL=1`` runs them with ``--small``
(the sizes the example tests use), which is what the site test does to stay quick.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the package of this checkout, installed or not
sys.path.insert(0, str(DOCS))  # gallery_support

import newtonopt  # noqa: E402

project = "newtonopt"
author = "newtonopt developers"
copyright = "newtonopt developers"
release = version = newtonopt.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",  # Markdown (MyST) and notebooks
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# -- MyST and notebooks ------------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links resolve
nb_execution_mode = "off"  # notebooks are shown as saved, with their stored outputs; the build never runs them

# MathJax typesets the mathematics of the notebooks (and any :math: in a docstring), from its CDN by default;
# to read the site offline, build with -D mathjax_path=<a local tex-mml-chtml.js> (npm's mathjax package).

# -- API reference -----------------------------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types, in words
numpydoc_show_class_members = False  # the class template documents every member itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- The gallery (the scripts in examples/) -------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"[/\\]\d\d_",  # run every numbered script
    "ignore_pattern": r"_common\.py|__init__\.py",
    "image_scrapers": ("gallery_support.saved_figures",),
    "reset_argv": "gallery_support.example_argv",
    "remove_config_comments": True,
    "capture_repr": (),  # the scripts print what they mean to show; a trailing expression is not shown
    "download_all_examples": False,
    "min_reported_time": 10,
    "show_memory": False,
    "write_computation_times": False,  # its page loads scripts from the network
    "within_subsection_order": "FileNameSortKey",
}

# -- HTML --------------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "newtonopt"
html_static_path: list[str] = []


# -- Plain-text mathematics in docstrings --------------------------------------------------------------------
# The docstrings write mathematics as Unicode text, |x| and x* included, which reStructuredText would read as
# substitutions and emphasis. Outside literals, roles and literal blocks, a '|' and a '*' that does not
# open or close valid emphasis are escaped, so the text reads as written (help() shows it unchanged).

_SPAN = re.compile(r"``.+?``|:[\w:+.-]+:`[^`]*`|`[^`]+`_{0,2}")
_EMPHASIS = re.compile(r"""(?:(?<=^)|(?<=[\s'"(\[{<\-/:]))(\*\*?)(?=\S)(?:.*?\S)\1(?=$|[\s'")\]}>\-/:.,;!?\\])""")


def _escape_text(text: str) -> str:
    out, last = [], 0
    for m in _EMPHASIS.finditer(text):
        out.append(re.sub(r"(?<!\\)([|*])", r"\\\1", text[last:m.start()]))
        out.append(m.group(0).replace("|", r"\|"))
        last = m.end()
    out.append(re.sub(r"(?<!\\)([|*])", r"\\\1", text[last:]))
    return "".join(out)


def _escape_line(line: str) -> str:
    out, last = [], 0
    for m in _SPAN.finditer(line):
        out.append(_escape_text(line[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_escape_text(line[last:]))
    return "".join(out)


def escape_plain_math(lines: list[str]) -> list[str]:
    """Escape '|' and stray '*' in reStructuredText lines, leaving literal blocks and directives' bodies."""
    result, block_indent = [], None
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                result.append(line)
                continue
            block_indent = None
        if line.rstrip().endswith("::"):
            block_indent = indent
            result.append(line if line.lstrip().startswith("..") else _escape_line(line))
            continue
        result.append(line if line.lstrip().startswith("..") else _escape_line(line))
    return result


def _process_docstring(app, what, name, obj, options, lines):
    lines[:] = escape_plain_math(lines)


def _process_gallery_page(app, docname, source):
    # The prose of a gallery page (the script's docstring) sits between the page's label and the first
    # block of code; its title (the first line and its underline) is left as it is.
    if not docname.startswith("auto_examples/") or docname.endswith("index"):
        return
    text = source[0]
    label = re.search(r"^\.\. _sphx_glr_\S+:\n\n", text, re.M)
    if label is None:
        return
    start = text.index("\n", text.index("\n", label.end()) + 1) + 1  # after the title and its underline
    end = text.find(".. GENERATED FROM PYTHON SOURCE LINES", start)
    prose = escape_plain_math(text[start:end].split("\n"))
    source[0] = text[:start] + "\n".join(prose) + text[end:]


def _drop_empty_lecture_glob(app, docname, source):
    # The lecture notebooks, docs/lecture_*.ipynb, are listed in index.md by a glob. With none present the
    # glob would match nothing, which Sphinx warns about (and -W makes fatal), so the line goes.
    if docname == "index" and not any(DOCS.glob("lecture_*.ipynb")):
        source[0] = re.sub(r"^lecture_\*\n", "", source[0], flags=re.M)


def _python_notebook(app, docname, source):
    # A notebook written by a script may lack the metadata naming its language; its cells are Python.
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    notebook = json.loads(source[0])
    metadata = notebook.setdefault("metadata", {})
    if not metadata.get("language_info") and not metadata.get("kernelspec"):
        metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
        source[0] = json.dumps(notebook)


def setup(app):
    app.connect("source-read", _python_notebook)
    app.connect("source-read", _drop_empty_lecture_glob)
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("source-read", _process_gallery_page)
