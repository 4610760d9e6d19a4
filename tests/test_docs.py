"""Every Python code block in README.md and docs/*.md runs, so the documentation cannot rot.

The blocks of one page run in order in one namespace, as a reader would run them.
"""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("path", [f for f in FILES if f.exists() and blocks(f)], ids=lambda p: p.name)
def test_code_blocks_run(path, tmp_path, monkeypatch):
    # A page that starts with <!-- needs: torch --> runs where torch is installed (an optional extra).
    needs = re.match(r"<!-- needs: ([\w, ]+) -->", path.read_text(encoding="utf-8"))
    for package in (needs.group(1).split(",") if needs else []):
        pytest.importorskip(package.strip())
    monkeypatch.chdir(tmp_path)  # figures a block writes land in a scratch folder
    namespace = {"__name__": "__docs__"}
    for i, code in enumerate(blocks(path)):
        exec(compile(code, f"{path.name}[block {i}]", "exec"), namespace)


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", text, re.S)
    assert commands[:2] == ["pip install . && newtonopt demo", "pip install '.[test]' && pytest"]


def test_api_page_is_in_step_with_the_code():
    from newtonopt._apidoc import render

    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == render(), (
        "docs/api.md is out of date: run python -m newtonopt._apidoc > docs/api.md")
