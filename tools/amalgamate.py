#!/usr/bin/env python3
"""Generates single_include/sockframe/sockframe.hpp from include/sockframe/.

Starting at include/sockframe/sockframe.hpp, every `#include <sockframe/...>` is replaced by the
text of that header the first time it is met (recursively, in first-use order) and dropped after
that; system includes stay where they are. The output is deterministic: the same headers give
the same bytes (no dates, no absolute paths, '\\n' line endings).

    python3 tools/amalgamate.py           regenerate the single header
    python3 tools/amalgamate.py --check   exit 1 if the committed single header is out of date

It also writes single_include/sockframe/iostream.hpp: the iostream adapters (not part of the single
header, as they are not part of the umbrella) as an add-on that includes the single header.

Python 3 standard library only.
"""

import argparse
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_DIR = os.path.join(ROOT, "include")
UMBRELLA = "sockframe/sockframe.hpp"
OUTPUT = os.path.join(ROOT, "single_include", "sockframe", "sockframe.hpp")
FIX_HINT = "run `python3 tools/amalgamate.py` and commit single_include/sockframe/"
# Add-ons written beside the single header: each includes it in place of the core's headers.
ADDONS = ("sockframe/iostream.hpp",)

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"](sockframe/[^>"]+)[>"]')
PRAGMA_ONCE_RE = re.compile(r"^\s*#\s*pragma\s+once\b")
SPDX_RE = re.compile(r"^\s*//\s*SPDX-License-Identifier:")  # the banner carries it once
IF_RE = re.compile(r"^\s*#\s*if(n?def)?\b")
ENDIF_RE = re.compile(r"^\s*#\s*endif\b")
VERSION_RE = re.compile(r"^\s*#\s*define\s+SOCKFRAME_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)", re.M)


class AmalgamationError(Exception):
    pass


def read_text(path):
    with open(path, "r", encoding="utf-8", newline="") as f:
        return f.read().replace("\r\n", "\n")


def read_version():
    text = read_text(os.path.join(INCLUDE_DIR, "sockframe", "version.hpp"))
    parts = dict(VERSION_RE.findall(text))
    try:
        return "{}.{}.{}".format(parts["MAJOR"], parts["MINOR"], parts["PATCH"])
    except KeyError as missing:
        raise AmalgamationError("include/sockframe/version.hpp does not define SOCKFRAME_VERSION_{}"
                                .format(missing.args[0]))


def guard_macro(name):
    return "SOCKFRAME_SINGLE_HEADER_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class Amalgamator:
    def __init__(self):
        self.done = set()     # inlined outside any #if: never again
        self.seen = set()     # inlined at least once (maybe inside an #if, then guarded)
        self.stack = []       # include chain, to report cycles
        self.out = []

    def inline(self, name, conditional):
        path = os.path.join(INCLUDE_DIR, *name.split("/"))
        if not os.path.isfile(path):
            chain = " -> ".join(self.stack) or "(root)"
            raise AmalgamationError("{} includes <{}>, which does not exist".format(chain, name))
        if name in self.stack:
            raise AmalgamationError("include cycle: " + " -> ".join(self.stack + [name]))
        # A header first met inside an #if may be skipped there by the preprocessor, so it is
        # inlined again at its next use; every copy then sits inside the same include guard.
        guarded = conditional or (name in self.seen)
        self.seen.add(name)
        if not conditional:
            self.done.add(name)
        self.stack.append(name)
        self.out.append("// ---- begin <{}> ----\n".format(name))
        if guarded:
            self.out.append("#ifndef {0}\n#define {0}\n".format(guard_macro(name)))
        depth = 0
        for line in read_text(path).split("\n"):
            if PRAGMA_ONCE_RE.match(line) or SPDX_RE.match(line):
                continue
            if IF_RE.match(line):
                depth += 1
            elif ENDIF_RE.match(line):
                depth -= 1
            m = INCLUDE_RE.match(line)
            if m:
                child = m.group(1)
                if child not in self.done:
                    self.inline(child, conditional or depth > 0)
                continue
            self.out.append(line + "\n")
        while self.out and self.out[-1] == "\n":
            self.out.pop()
        if guarded:
            self.out.append("#endif  // {}\n".format(guard_macro(name)))
        self.out.append("// ---- end <{}> ----\n\n".format(name))
        self.stack.pop()


# Optional headers that need a third-party library (Asio; TLS: OpenSSL, Mbed TLS), the iostream
# adapters (they bring <istream>/<ostream>) and the separate-compilation source: never part of the
# umbrella header nor of the single header; a program that uses them includes them itself.
OPTIONAL = ("sockframe/asio.hpp", "sockframe/tls.hpp", "sockframe/tls/", "sockframe/iostream.hpp", "sockframe/impl/")


def all_headers():
    found = []
    base = os.path.join(INCLUDE_DIR, "sockframe")
    for directory, dirs, files in os.walk(base):
        dirs.sort()
        for f in sorted(files):
            if f.endswith((".hpp", ".h", ".ipp")):
                rel = os.path.relpath(os.path.join(directory, f), INCLUDE_DIR).replace(os.sep, "/")
                if not rel.startswith(OPTIONAL):
                    found.append(rel)
    return found


def generate():
    version = read_version()
    a = Amalgamator()
    a.inline(UMBRELLA, conditional=False)
    missing = [h for h in all_headers() if h not in a.seen and not h.startswith(OPTIONAL)]
    if missing:
        raise AmalgamationError(
            "not reachable from <{}>: {} (include them from the umbrella header, or from a "
            "header it includes)".format(UMBRELLA, ", ".join("<" + h + ">" for h in missing)))
    banner = (
        "// sockframe {version}: sockets and message framing for C++17, as a single header.\n"
        "//\n"
        "// GENERATED by tools/amalgamate.py from include/sockframe/ -- DO NOT EDIT.\n"
        "// Edit the headers in include/sockframe/, then run `python3 tools/amalgamate.py`.\n"
        "//\n"
        "// SPDX-License-Identifier: MIT\n"
        "{license}"
        "\n"
        "#ifndef SOCKFRAME_SINGLE_HEADER_HPP\n"
        "#define SOCKFRAME_SINGLE_HEADER_HPP\n"
        "#pragma once\n"
        "\n"
        "/// Defined when sockframe comes from the single header.\n"
        "#define SOCKFRAME_SINGLE_HEADER 1\n"
        "\n"
    ).format(version=version, license=license_comment())
    body = "".join(a.out).rstrip("\n") + "\n"
    return banner + body + "\n#endif  // SOCKFRAME_SINGLE_HEADER_HPP\n"


def generate_addon(name):
    """The header `name` for single-header users: its own text, with its sockframe includes
    replaced by one include of the single header."""
    lines = read_text(os.path.join(INCLUDE_DIR, name)).split("\n")
    out, replaced = [], False
    for line in lines:
        if INCLUDE_RE.match(line):
            if not replaced:
                out.append("#include <sockframe/sockframe.hpp>  // the single header")
                replaced = True
            continue
        out.append(line)
    banner = ("// GENERATED by tools/amalgamate.py from include/{name} for use beside the single header\n"
              "// -- DO NOT EDIT.\n").format(name=name)
    return banner + "\n".join(out).rstrip("\n") + "\n"


def license_comment():
    path = os.path.join(ROOT, "LICENSE")
    if not os.path.isfile(path):
        return ""
    lines = read_text(path).rstrip("\n").split("\n")
    return "//\n" + "".join(("// " + l).rstrip() + "\n" for l in lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the committed single header differs")
    parser.add_argument("--output", default=OUTPUT, help="where to write (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        outputs = [(args.output, generate())]
    except AmalgamationError as e:
        print("amalgamate.py: error: {}".format(e), file=sys.stderr)
        return 2
    directory = os.path.dirname(args.output)
    outputs += [(os.path.join(directory, os.path.basename(name)), generate_addon(name)) for name in ADDONS]
    status = 0
    for path, text in outputs:
        shown = os.path.relpath(path, ROOT) if path.startswith(ROOT) else path
        if args.check:
            current = read_text(path) if os.path.isfile(path) else ""
            if current == text:
                print("{} is up to date".format(shown))
                continue
            diff = list(difflib.unified_diff(current.split("\n"), text.split("\n"),
                                             "committed/" + shown, "generated/" + shown, lineterm="", n=1))
            print("\n".join(diff[:60]), file=sys.stderr)
            if len(diff) > 60:
                print("... ({} more diff lines)".format(len(diff) - 60), file=sys.stderr)
            print("error: {} is out of date with include/sockframe/.\n"
                  "To fix: {}.".format(shown, FIX_HINT), file=sys.stderr)
            status = 1
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print("wrote {}".format(shown))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
