"""Every Python code block in README.md and docs/*.md runs, so the documentation cannot rot."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(f, i, code) for f in FILES if f.exists()
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", f.read_text(encoding="utf-8"), re.S))]


@pytest.mark.parametrize("path, index, code", BLOCKS, ids=[f"{p.name}[{i}]" for p, i, _ in BLOCKS])
def test_code_block_runs(path, index, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # figures a block writes land in a scratch folder
    exec(compile(code, f"{path.name}[{index}]", "exec"), {"__name__": "__docs__"})


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", text, re.S)
    assert commands[:2] == ["pip install . && newtonopt demo", "pip install '.[test]' && pytest"]
