"""Every command docs/cli.md shows runs as written, and every error it shows is the one printed.

The page is the command line's manual: its ``bash`` blocks are run line by line through ``main``, its
inline spellings (``--x0 -1.2,1``, ``heavyball:lr=1e-3,momentum=0.9``) are run or built, and each
``$ newtonopt …`` line of its ``text`` blocks must print the error line that follows it.
"""

import re
import shlex
from pathlib import Path

import pytest

from newtonopt.cli import build_method, main, parse_methods

PAGE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
TEXT = PAGE.read_text(encoding="utf-8")


def _sections() -> list[tuple[str, str]]:
    """(command, body) for each ``## `newtonopt COMMAND` `` section, and ("", …) for the others."""
    parts = re.split(r"^## (.*)$", TEXT, flags=re.M)
    out = [("", parts[0])]
    for title, body in zip(parts[1::2], parts[2::2]):
        found = re.match(r"`newtonopt (\w+)`", title)
        out.append((found.group(1) if found else "", body))
    return out


def _commands() -> list[list[str]]:
    found = []
    for block in re.findall(r"```bash\n(.*?)```", TEXT, re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "newtonopt":
                found.append(words[1:])
    for span in re.findall(r"`(newtonopt [^`]*)`", re.sub(r"```.*?```", "", TEXT, flags=re.S)):  # `newtonopt list`
        found.append(shlex.split(span)[1:])
    unique = []  # headings and prose repeat `newtonopt demo`: run each command once
    for argv in found:
        if argv not in unique:
            unique.append(argv)
    return unique


def _inline_flags() -> list[tuple[str, list[str]]]:
    """(command, words) for each concrete inline flag (``--x0 -1.2,1``; ``--potential NAME`` is a placeholder)."""
    found = []
    for command, body in _sections():
        body = re.sub(r"```.*?```", "", body, flags=re.S)
        for span in re.findall(r"`(--[^`]*)`", body):
            # a flag with a value, all lower case: `--x0 -1.2,1`, not `--methods` or `--potential NAME`
            if command and " " in span.strip() and not re.search(r"[A-Z]", span):
                found.append((command, shlex.split(span)))
    return found


COMMANDS = _commands()


def test_the_page_shows_every_command_and_every_spelling_it_promises():
    # The examples cover each subcommand and the spellings the page describes (a guard against an
    # edit that drops them and leaves the tests below with nothing to run).
    assert {c[0] for c in COMMANDS} == {"demo", "list", "compare", "explore"}
    joined = [" ".join(c) for c in COMMANDS]
    for spelling in ("--x0 -1.2,1", "--x0=-1.2,1", "--x0 -1.2, 1", "--potential -exp(", "betas=(0.9,0.99)",
                     "betas=0.8/0.999", "langevin:temperature=0.3,seed=2", "--backend numba", "--workers 2"):
        assert any(spelling in j for j in joined), spelling
    assert ("compare", ["--x0", "-1.2,1"]) in _inline_flags()
    assert len(_error_examples()) >= 5


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a)[:70])
def test_each_command_on_the_page_runs(argv, tmp_path, monkeypatch, capsys):
    if "numba" in argv:
        pytest.importorskip("numba")
    monkeypatch.chdir(tmp_path)  # figures and tables land in a scratch folder
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    if argv[0] == "compare":
        assert "method" in out.splitlines()[0] and "parameters" in out.splitlines()[0]
    if "--plot" in argv or "--csv" in argv or argv[0] in ("demo", "explore"):
        assert any(tmp_path.iterdir())  # the file the command said it wrote is there


@pytest.mark.parametrize("command, words", _inline_flags(), ids=lambda x: " ".join(x) if isinstance(x, list) else x)
def test_each_inline_spelling_on_the_page_works(command, words, tmp_path, monkeypatch, capsys):
    if "numba" in words:
        pytest.importorskip("numba")
    monkeypatch.chdir(tmp_path)
    argv = [command, *words]
    if command == "compare":  # the spelling is what is tested: a short run of one quick method
        argv += ["--steps", "2"] + ([] if "--methods" in words else ["--methods", "cg"])
    assert main(argv) == 0, capsys.readouterr().err


def test_each_method_spelling_on_the_page_builds():
    specs = set(re.findall(r"`([a-z][\w-]*:\w+=[^`\s]*)`", TEXT))
    assert {"heavyball:lr=1e-3,momentum=0.9", "adam:amsgrad=true", "fire:Nmin=3", "cg:c2=0.1"} <= specs
    for spec in specs:
        for _, name, params in parse_methods(spec):
            method = build_method(name, params, 1e-3)
            for key, value in params.items():  # read the page's value here by the page's own rules
                if value in ("true", "false"):
                    expected = value == "true"
                elif "/" in value or value.startswith("("):
                    expected = tuple(float(v) for v in re.split(r"[(),/]+", value) if v)
                else:
                    expected = float(value)
                # an integrator reports its params(); a scipy method is the pair (name, options)
                given = method[1] if isinstance(method, tuple) else method.params()
                assert given[key] == expected, (spec, key)


def _error_examples():
    found = []
    for block in re.findall(r"```text\n(.*?)```", TEXT, re.S):
        lines = block.splitlines()
        for line, expected in zip(lines, lines[1:]):
            if line.startswith("$ newtonopt "):
                found.append((shlex.split(line[2:])[1:], expected))
    return found


@pytest.mark.parametrize("argv, expected", _error_examples(), ids=lambda x: " ".join(x) if isinstance(x, list) else "")
def test_each_error_on_the_page_is_the_one_printed(argv, expected, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own complaints
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    if expected.endswith("…"):
        assert err.startswith(expected[:-1]), err
    else:
        assert err.strip() == expected
