"""The commands in README.md and docs/*.md run as written: every `airadar ...` line in a code
block names a real command and real options, its paths into the repository exist, the pages'
links resolve, and the README's cheap offline commands print what the README shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from airadar.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: paths that start with these are files of the repository and must exist
REPO_DIRS = ("examples/", "data/", "benchmarks/", "docs/")
#: shell words that end one command (what follows is not airadar's)
CONTROL = {"|", "||", "&&", "&", ";", ">", ">>", "2>", "<"}
#: commands that write to their --store: they must not write into the repository
WRITES_STORE = {("bench",), ("bench-host",), ("loadtest",)}
#: commands cheap and offline enough to run from the README (a few seconds each)
RUNNABLE = {("plan",), ("estimate",), ("cost",), ("policy", "check"), ("catalog", "prices"),
            ("graph",)}
SHELL_BLOCKS = {"bash", "sh", "shell", "console"}


@dataclass(frozen=True)
class DocCommand:
    """One `airadar` command line of a page, and the first output line shown under it."""

    where: str  # "file:line"
    argv: tuple[str, ...]  # the words after `airadar`
    shown: str | None = None  # the next line of the block when it is output, else None


def _logical_lines(lines: list[tuple[int, str]]) -> list[tuple[int, str, int]]:
    """Join `\\`-continued lines: (first line number, text, index of the last physical line)."""
    out: list[tuple[int, str, int]] = []
    i = 0
    while i < len(lines):
        no, text = lines[i]
        while text.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text.rstrip()[:-1] + " " + lines[i][1].strip()
        out.append((no, text, i))
        i += 1
    return out


def _airadar_argvs(text: str) -> list[tuple[str, ...]]:
    """The argv of every `airadar` command in one shell line (pipes, `&&`, `&`, comments cut)."""
    words = shlex.split(text, comments=True)
    argvs, current = [], []
    for w in [*words, "&&"]:
        if w in CONTROL:
            if current and (current[0] == "airadar" or current[0].endswith("/airadar")):
                argvs.append(tuple(current[1:]))
            current = []
        else:
            current.append(w)
    return argvs


def parse_commands(text: str, name: str) -> list[DocCommand]:
    """Every airadar command in the page's code blocks: lines after a `$ ` prompt, and whole
    lines of `bash` blocks."""
    found: list[DocCommand] = []
    block: list[tuple[int, str]] | None = None
    info = ""
    for no, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            if block is None:
                block, info = [], line.strip().strip("`").strip().lower()
            else:
                found.extend(_block_commands(block, info, name))
                block = None
        elif block is not None:
            block.append((no, line))
    return found


def _block_commands(block: list[tuple[int, str]], info: str, name: str) -> list[DocCommand]:
    out = []
    logical = _logical_lines(block)
    for k, (no, text, _) in enumerate(logical):
        stripped = text.strip()
        if stripped.startswith("$ "):
            cmd = stripped[2:]
        elif info in SHELL_BLOCKS:
            cmd = stripped
        else:
            continue
        nxt = logical[k + 1][1] if k + 1 < len(logical) else None
        output = nxt is not None and not nxt.strip().startswith("$ ") and info not in SHELL_BLOCKS
        shown = nxt if output else None
        for argv in _airadar_argvs(cmd):
            out.append(DocCommand(where=f"{name}:{no}", argv=argv, shown=shown))
    return out


def all_commands() -> list[DocCommand]:
    return [c for p in PAGES for c in parse_commands(p.read_text(), str(p.relative_to(ROOT)))]


def _is_number(word: str) -> bool:
    return re.fullmatch(r"-\d+(\.\d+)?", word) is not None


def resolve_command(argv: tuple[str, ...]) -> tuple[tuple[str, ...], Any, list[str]]:
    """The subcommand path, its click command and the remaining words; raises LookupError.
    (Typer may vendor its own click, so groups and options are recognised by their fields.)"""
    cmd: Any = typer.main.get_command(app)
    path: list[str] = []
    rest = list(argv)
    while hasattr(cmd, "commands"):
        if not rest or rest[0].startswith("-"):
            raise LookupError(f"'airadar {' '.join(path)}' needs a subcommand")
        sub = cmd.commands.get(rest[0])
        if sub is None:
            raise LookupError(f"no command 'airadar {' '.join([*path, rest[0]])}' "
                              f"(known: {', '.join(sorted(cmd.commands))})")
        path.append(rest.pop(0))
        cmd = sub
    return tuple(path), cmd, rest


def check_command(c: DocCommand) -> list[str]:
    """What is wrong with one documented command (empty when nothing is)."""
    try:
        path, cmd, rest = resolve_command(c.argv)
    except LookupError as exc:
        return [f"{c.where}: {exc}"]
    known = {"--help"}
    for p in cmd.params:
        if getattr(p, "param_type_name", "") == "option":
            known.update(p.opts)
            known.update(p.secondary_opts)
    problems = []
    for i, word in enumerate(rest):
        if word.startswith("-") and word != "-" and not _is_number(word):
            flag = word.split("=", 1)[0]
            if flag not in known:
                problems.append(f"{c.where}: 'airadar {' '.join(path)}' has no option {flag}")
        value = word.split("=", 1)[1] if word.startswith("--") and "=" in word else word
        rel = value.removeprefix("./")
        if rel.startswith(REPO_DIRS) and not (ROOT / rel).exists():
            problems.append(f"{c.where}: {rel} does not exist in the repository")
        if path in WRITES_STORE and word == "--store" and i + 1 < len(rest):
            target = rest[i + 1].removeprefix("./")
            if "://" not in target and (target.startswith(REPO_DIRS) or not target.startswith(
                    ("/", "~", "$"))):
                problems.append(f"{c.where}: 'airadar {' '.join(path)}' writes its store into "
                                f"the repository ({target}); use a path outside it")
    return problems


# --- the parser and the checker themselves


def test_parser_joins_continuations_and_cuts_pipes() -> None:
    """`\\` continuations are joined; pipes, `&`, comments and `&&` chains are cut."""
    page = ("```text\n$ airadar estimate -m llama-3.1-8b \\\n    -H h200 --json | head -40\n{\n"
            "$ python -m airadar.bench.llama_server --port 8123 &\n"
            "$ airadar plan examples/eu-support-chat.yaml   # a comment\nEU line\n```\n"
            "```bash\npython3 -m venv .venv && .venv/bin/airadar plan examples/x.yaml\n```\n")
    cmds = parse_commands(page, "p.md")
    assert [c.argv for c in cmds] == [
        ("estimate", "-m", "llama-3.1-8b", "-H", "h200", "--json"),
        ("plan", "examples/eu-support-chat.yaml"),
        ("plan", "examples/x.yaml")]
    assert [c.shown for c in cmds] == ["{", "EU line", None]


def test_checker_reports_a_made_up_option() -> None:
    """A flag the command does not have is reported, with the page and line."""
    bad = DocCommand(where="p.md:3", argv=("plan", "examples/eu-support-chat.yaml",
                                           "--no-such-flag"))
    assert check_command(bad) == ["p.md:3: 'airadar plan' has no option --no-such-flag"]


def test_checker_reports_unknown_commands_missing_paths_and_stores_in_the_repo() -> None:
    """An unknown subcommand, a missing example and a bench writing into data/ are reported."""
    assert "no command 'airadar catalog nope'" in check_command(
        DocCommand(where="p.md:1", argv=("catalog", "nope")))[0]
    assert "examples/missing.yaml does not exist" in check_command(
        DocCommand(where="p.md:1", argv=("plan", "examples/missing.yaml")))[0]
    assert "writes its store into the repository" in check_command(
        DocCommand(where="p.md:1", argv=("bench", "-b", "torch", "-m", "x",
                                         "--store", "data/host/host_runs.sqlite")))[0]
    assert check_command(DocCommand(where="p.md:1", argv=(
        "sweep", "s.yaml", "--futures", "-5"))) == []


# --- the pages


def test_pages_have_commands() -> None:
    """The parser finds the pages' commands (a parser that finds none would pass everything)."""
    cmds = all_commands()
    assert len(cmds) > 50
    assert any(c.where.startswith("README.md") and c.argv[:1] == ("plan",) for c in cmds)


def test_every_documented_command_and_option_exists() -> None:
    """Every `airadar` command in README.md and docs/*.md is a real command with real options,
    and its paths into the repository exist."""
    problems = [p for c in all_commands() for p in check_command(c)]
    assert not problems, "\n".join(problems)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    out, fence = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"#{1,6} ", line):
            out.add(_slug(line.lstrip("#")))
    return out


def test_every_relative_link_resolves() -> None:
    """Links and images between the pages point to files that exist and headings they have."""
    problems = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                problems.append(f"{page.relative_to(ROOT)}: {target}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                problems.append(f"{page.relative_to(ROOT)}: {target}: no such heading")
    assert not problems, "\n".join(problems)


def _readme_runnable() -> list[DocCommand]:
    out, seen = [], set()
    for c in parse_commands((ROOT / "README.md").read_text(), "README.md"):
        try:
            path = resolve_command(c.argv)[0]
        except LookupError:
            continue
        if path in RUNNABLE and c.shown and c.argv not in seen:
            seen.add(c.argv)
            out.append(c)
    return out


@pytest.mark.parametrize("cmd", _readme_runnable(), ids=lambda c: " ".join(c.argv[:2]))
def test_readme_commands_print_what_the_readme_shows(cmd: DocCommand, tmp_path: Path) -> None:
    """The README's cheap offline commands exit as shown and print the first line shown
    (any date in that line matches: it is the day it was recorded)."""
    if cmd.argv[0] == "graph":
        pytest.importorskip("onnx")
        from airadar.bench import packaged

        if cmd.argv[1] in packaged.PACKAGED and not packaged.installed(cmd.argv[1]):
            pytest.skip(f"packaged model {cmd.argv[1]} is not installed")
    env = {**os.environ, "AIRADAR_HOME": str(tmp_path), "COLUMNS": "200"}
    r = subprocess.run([sys.executable, "-m", "airadar", *cmd.argv], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    expected = cmd.shown.strip() if cmd.shown else ""
    if expected.startswith("error:"):
        assert r.returncode in (2, 3), (cmd.where, r.returncode, r.stderr[-2000:])
    else:
        assert r.returncode == 0, (cmd.where, r.stderr[-2000:])
    # a date in the line is the day it was recorded ("aged against 2026-12-02"): any date matches
    pattern = re.sub(r"\d{4}\\-\d{2}\\-\d{2}", r"\\d{4}-\\d{2}-\\d{2}", re.escape(expected))
    assert re.search(pattern, r.stdout + r.stderr), (cmd.where, expected, r.stdout[:2000])
