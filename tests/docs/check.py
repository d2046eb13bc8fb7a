#!/usr/bin/env python3
"""Executable documentation: runs the ```console blocks of Markdown pages and compares outputs.

Owns the check that README.md and docs/*.md show what the binary really prints. The convention
(which blocks are checked, how to elide) is documented at the top of docs/README.md.

Written with the standard library only rather than with the trycmd crate: trycmd runs a
Markdown case in the page's own folder (it would write run folders into docs/) and compiles a
dependency tree into the workspace's shared lockfile, while this check only needs the release
binary CI has already built, one scratch folder per page, and difflib's unified diff.
"""
import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

FENCE = re.compile(r"^(`{3,})\s*(\S*)\s*$")


def blocks(path):
    """Yields (line number, lines) for each ```console block of a Markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        ticks, lang = m.group(1), m.group(2)
        start = i + 1
        j = start
        while j < len(lines) and lines[j].rstrip() != ticks:
            j += 1
        if j == len(lines):
            sys.exit(f"{path}:{i + 1}: a code block is never closed")
        if lang == "console":
            yield start, lines[start:j]
        i = j + 1


def steps(path, lineno, body):
    """Splits a console block into (line number, command, expected exit code, expected lines)."""
    out = []
    for k, line in enumerate(body):
        if line.startswith("$ "):
            out.append([lineno + k + 1, line[2:], 0, []])
        elif not out:
            sys.exit(f"{path}:{lineno + k + 1}: a console block must start with a `$ ` command line")
        elif not out[-1][3] and re.fullmatch(r"\? \d+", line.strip()):
            out[-1][2] = int(line.strip()[2:])
        else:
            out[-1][3].append(line)
    return out


def clean(lines):
    """Trailing whitespace and trailing blank lines never count."""
    lines = [l.rstrip() for l in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def line_matches(expected, actual):
    if "[..]" not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(p) for p in expected.split("[..]"))
    return re.fullmatch(pattern, actual) is not None


def matches(expected, actual):
    """`[..]` matches any text within a line; a line `...` matches any number of lines."""
    memo = {}

    def go(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(expected):
            r = j == len(actual)
        elif expected[i] == "...":
            r = any(go(i + 1, k) for k in range(j, len(actual) + 1))
        else:
            r = j < len(actual) and line_matches(expected[i], actual[j]) and go(i + 1, j + 1)
        memo[key] = r
        return r

    sys.setrecursionlimit(max(10000, 4 * (len(expected) + len(actual))))
    return go(0, 0)


def scratch(repo):
    """A fresh folder per page, with the repository's shipped inputs reachable by their paths."""
    d = tempfile.mkdtemp(prefix="simulacra-docs-")
    for name in ("scenarios", "data", "examples"):
        if os.path.exists(os.path.join(repo, name)):
            os.symlink(os.path.join(repo, name), os.path.join(d, name))
    return d


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(repo, "target", "release", "simulacra"),
                    help="the simulacra binary the pages' `simulacra` means (default: the release build)")
    ap.add_argument("--keep", action="store_true", help="keep each page's scratch folder and print where it is")
    ap.add_argument("pages", nargs="*", help="Markdown files (default: README.md and docs/*.md)")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        sys.exit(f"docs: no executable binary at {binary}; build it with `cargo build --release` or pass --bin")
    pages = args.pages or ["README.md"] + sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(repo, "docs")) if f.endswith(".md"))
    bindir = tempfile.mkdtemp(prefix="simulacra-docs-bin-")
    os.symlink(binary, os.path.join(bindir, "simulacra"))
    env = dict(os.environ)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.pop("RUST_LOG", None)
    env["NO_COLOR"] = "1"
    failures = 0
    checked = 0
    for page in pages:
        path = page if os.path.isabs(page) else os.path.join(repo, page)
        page_steps = [s for ln, body in blocks(path) for s in steps(page, ln, body)]
        if not page_steps:
            continue
        cwd = scratch(repo)
        started = time.monotonic()
        for lineno, command, code, expected in page_steps:
            checked += 1
            p = subprocess.run(["bash", "-c", command], cwd=cwd, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            actual = clean(p.stdout.decode("utf-8", "replace").split("\n"))
            want = clean(expected)
            problems = []
            if p.returncode != code:
                problems.append(f"exit code {p.returncode}, the page says {code}")
            if not matches(want, actual):
                diff = difflib.unified_diff(want, actual, f"{page}:{lineno} (documented)",
                                            "actual output", lineterm="")
                problems.append("output differs:\n" + "\n".join(diff))
            if problems:
                failures += 1
                print(f"FAIL {page}:{lineno}: $ {command}")
                for pr in problems:
                    print("  " + pr.replace("\n", "\n  "))
        print(f"docs: {page}: {len(page_steps)} commands in {time.monotonic() - started:.1f} s")
        if args.keep:
            print(f"docs: {page}: scratch folder {cwd}")
        else:
            shutil.rmtree(cwd, ignore_errors=True)
    shutil.rmtree(bindir, ignore_errors=True)
    if failures:
        print(f"docs: {failures} of {checked} documented commands do not match")
        sys.exit(1)
    print(f"docs: all {checked} documented commands match")


if __name__ == "__main__":
    main()
