"""The documentation site builds with warnings as errors, shows every example's figures, links only to
pages and anchors that exist, documents every public name, and renders in a browser without a broken
image or a console error.

The site is built once for the module (``pip install '.[docs]'``; skipped without it), with the examples
at their ``--small`` sizes (``NEWTONOPT_DOCS_SMALL=1``), as tests/test_examples.py runs them. The browser
checks use Debian's Chromium (``apt-get install chromium``) driven by playwright, and skip without them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("[0-9][0-9]_*.py"))


class Page(HTMLParser):
    """The ids, links and images of one HTML page, and its text."""

    def __init__(self, path: Path):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []
        self.assets: list[str] = []
        self.text: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href") is not None:
            self.links.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag in ("script", "link") and (attrs.get("src") or attrs.get("href")):
            self.assets.append(attrs.get("src") or attrs.get("href"))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    for package in ("sphinx", "sphinx_gallery", "myst_nb", "numpydoc", "furo"):
        pytest.importorskip(package, reason="the documentation needs pip install '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "MPLBACKEND": "Agg", "NEWTONOPT_DOCS_SMALL": "1"}
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS),
                           str(out)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=1200)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    return out


def _local(href: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", href)  # no scheme: http:, mailto:, data: ...


def test_every_gallery_page_shows_every_figure_its_script_wrote(site):
    index = Page(site / "auto_examples" / "index.html")
    for stem in EXAMPLES:
        page_path = site / "auto_examples" / f"{stem}.html"
        assert f"{stem}.html" in index.links, f"the gallery index does not link {stem}"
        page = Page(page_path)
        figures = [src for src in page.images if f"sphx_glr_{stem}_" in src]
        # The script prints "wrote <file>" for each figure it saves (examples/_common.save): one image each.
        written = re.findall(r"wrote \S+\.(?:png|gif)", "".join(page.text))
        assert figures and len(figures) == len(written), (stem, figures, written)
        for src in figures:
            image = (page_path.parent / unquote(src)).resolve()
            assert image.is_file() and image.stat().st_size > 10_000, image


def test_every_internal_link_and_anchor_resolves(site):
    pages = {path.resolve(): Page(path) for path in site.rglob("*.html")}
    broken = []
    for path, page in pages.items():
        for href in page.links:
            if not _local(href):
                continue
            parts = urlsplit(href)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site)} -> {href}")
            elif parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
                broken.append(f"{path.relative_to(site)} -> {href} (no such anchor)")
        for src in page.images + page.assets:
            if _local(src) and not (path.parent / unquote(urlsplit(src).path)).exists():
                broken.append(f"{path.relative_to(site)} -> {src} (missing file)")
    assert not broken, "\n".join(broken[:40])


def test_the_reference_documents_every_public_name(site):
    # docs/api.md lists every public name (its test checks it against the code); each has a page here.
    names = re.findall(r"^### `(newtonopt\.[\w.]+)`", (DOCS / "api.md").read_text(encoding="utf-8"), re.M)
    assert len(names) > 70
    missing = [name for name in names if not (site / "generated" / f"{name}.html").is_file()]
    assert not missing, missing
    anchors = {
        "newtonopt.HeavyBall": ["newtonopt.HeavyBall.from_physics", "newtonopt.HeavyBall.tuned"],
        "newtonopt.GradientDescent": ["newtonopt.GradientDescent.from_physics", "newtonopt.GradientDescent.tuned"],
        "newtonopt.Nesterov": ["newtonopt.Nesterov.tuned"],
        "newtonopt.Potential": ["newtonopt.Potential.from_function", "newtonopt.Potential.from_expression"],
        "newtonopt.Trajectory": [f"newtonopt.Trajectory.{name}" for name in
                                 ("energy_error", "total_energy", "gap", "gradient_evaluations", "n_records",
                                  "join", "save", "load")],
        "newtonopt.explorer.explore": ["newtonopt.explorer.explore"],
    }
    for name, ids in anchors.items():
        page = Page(site / "generated" / f"{name}.html")
        assert set(ids) <= page.ids, (name, set(ids) - page.ids)
    # Every attribute the Trajectory's docstring lists is described on its page.
    from numpydoc.docscrape import ClassDoc

    import newtonopt

    text = "".join(Page(site / "generated" / "newtonopt.Trajectory.html").text)
    attributes = [n.strip() for item in ClassDoc(newtonopt.Trajectory)["Attributes"] for n in item.name.split(",")]
    assert "particle_status" in attributes and all(name in text for name in attributes)
    assert "show" in "".join(Page(site / "generated" / "newtonopt.explorer.explore.html").text)


def test_the_front_page_has_the_dictionary_and_the_pages_render(site):
    text = "".join(Page(site / "index.html").text)
    assert "explicit Euler of the overdamped flow" in text and "η = dt²/m, β = 1 − γ·dt/m" in text
    for page in [*(p.stem for p in DOCS.glob("*.md")), *(p.stem for p in DOCS.glob("*.ipynb"))]:
        assert (site / f"{page}.html").is_file(), page
    # A page with mathematics (a notebook's $...$, a docstring's :math:) loads MathJax to typeset it.
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        if 'class="math notranslate' in html:
            assert "mathjax" in html.lower(), path.relative_to(site)


# ---------------------------------------------------------------- in a browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser checks need playwright")
    if CHROMIUM is None:
        pytest.skip("the browser checks need Chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        # The system's Chromium; these flags keep it from reaching for the network at start.
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


@pytest.mark.parametrize("page_name", ["index.html", "auto_examples/index.html",
                                       "auto_examples/01_one_dimension.html"])
def test_pages_show_every_image_and_log_no_error(site, browser, page_name, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((site / page_name).as_uri())
    page.wait_for_load_state("load")
    # Load lazy images too, then read each image's decoded width: 0 means it did not load.
    widths = page.evaluate("""async () => {
        const images = Array.from(document.images);
        images.forEach(img => { img.loading = "eager"; });
        await Promise.allSettled(images.map(img => img.decode()));
        return images.map(img => [img.getAttribute("src"), img.naturalWidth]);
    }""")
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot))
    page.close()
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    assert not [src for src, width in widths if width == 0], widths
    if page_name.startswith("auto_examples/"):
        assert len(widths) >= 1
    assert not errors, errors
