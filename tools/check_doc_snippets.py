#!/usr/bin/env python3
"""Compiles every C++ code block of README.md, CONTRIBUTING.md and docs/*.md: what a reader copies
compiles.

    python3 tools/check_doc_snippets.py [--compiler g++] [--jobs 2] [--list] [FILE.md ...]

Each ```cpp block is compiled on its own (-std=c++20 -fsyntax-only -Wall -Werror; first, from a
header precompiled once, the umbrella header, <sockframe/tls.hpp>, <sockframe/iostream.hpp> and
<sockframe/coro.hpp>, with `namespace sf = sockframe;` and `using namespace std::chrono_literals;`). A block that
is a whole program or a set of declarations compiles at namespace scope; a block of statements
compiles as the body of a function. One of the two must succeed.

A block that uses names the text around it introduced (`conn`, `payload`, a handler's `c`)
declares them in an HTML comment just above it, which a rendered page does not show:

    <!-- snippet: auto& conn = given<sf::framed<sf::tcp_stream, sf::length_prefix<>>>(); -->

(`given<T>()` is declared, never defined: the blocks are compiled, not linked). The declarations
come before the block: at namespace scope, or first in the function body. A block that is not
C++ to compile (a list of member signatures) says `<!-- snippet: skip, because ... -->`.

Exit status 1 if a block compiles neither way; the compiler's first errors are printed for it.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = """#include <sockframe/sockframe.hpp>
#include <sockframe/coro.hpp>
#include <sockframe/iostream.hpp>
#include <sockframe/tls.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>
namespace sf = sockframe;
using namespace std::chrono_literals;
template <typename T> T& given();  // what a context comment declares: auto& conn = given<Type>();
"""

BLOCK = re.compile(r"(?:<!--\s*snippet:(?P<note>.*?)-->[ \t]*\n[ \t]*)?```cpp\n(?P<code>.*?)```", re.S)


def blocks(path):
    text = open(path, encoding="utf-8").read()
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("code")) + 1
        note = (m.group("note") or "").strip()
        yield line, note, m.group("code")


FLAGS = ["-std=c++20", "-Wall", "-Werror", "-Wno-unused", "-I", os.path.join(ROOT, "include")]


def precompile(compiler, workdir):
    """The prelude as a precompiled header, parsed once for every block: the path to -include."""
    header = os.path.join(workdir, "prelude.hpp")
    with open(header, "w") as f:
        f.write(PRELUDE)
    r = subprocess.run([compiler] + FLAGS + ["-x", "c++-header", header, "-o", header + ".gch"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("the prelude does not compile:\n" + r.stderr[:4000])
    return header


def compile_ok(compiler, prelude, source):
    cmd = [compiler] + FLAGS + ["-Winvalid-pch", "-fsyntax-only", "-include", prelude, "-x", "c++", "-"]
    r = subprocess.run(cmd, input=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.returncode == 0, r.stderr


def check(compiler, prelude, name, line, note, code):
    """None when the block compiles (or is skipped), else the compiler's first errors."""
    if note.startswith("skip"):
        return None
    context = note + "\n" if note else ""
    at = "#line %d\n" % line
    ok, _ = compile_ok(compiler, prelude, context + at + code)
    if ok:
        return None
    ok, errors = compile_ok(compiler, prelude, "void snippet_body() {\n" + context + at + code + "\n}\n")
    if ok:
        return None
    lines = [l for l in errors.splitlines() if "error" in l][:4]
    return "\n".join("    " + l.replace("<stdin>", name) for l in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compiler", default="g++")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--list", action="store_true", help="print every block checked, not only failures")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or ([os.path.join(ROOT, n) for n in ("README.md", "CONTRIBUTING.md")] +
                           sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))))
    work = []
    for f in files:
        name = os.path.relpath(f, ROOT)
        for line, note, code in blocks(f):
            work.append((name, line, note, code))
    failed = 0
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        prelude = precompile(args.compiler, workdir)
        results = list(pool.map(lambda w: check(args.compiler, prelude, *w), work))
    for (name, line, note, _), error in zip(work, results):
        where = "%s:%d" % (name, line)
        if error is not None:
            failed += 1
            print("does not compile: %s\n%s" % (where, error))
        elif args.list:
            print("%s: %s" % (where, "skipped (" + note[4:].strip(" ,") + ")" if note.startswith("skip") else "ok"))
    print("doc snippets: %d checked, %d skipped, %d failed" %
          (len(work), sum(1 for w in work if w[2].startswith("skip")), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
