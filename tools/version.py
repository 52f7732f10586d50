#!/usr/bin/env python3
"""Prints sockframe's version (MAJOR.MINOR.PATCH) as defined in include/sockframe/version.hpp,
the one place it is defined. meson.build reads it with this script. Python 3 stdlib only."""

import os
import re
import sys

HEADER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "include", "sockframe", "version.hpp")


def read_version(path=HEADER):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parts = dict(re.findall(r"^\s*#\s*define\s+SOCKFRAME_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)", text, re.M))
    missing = [p for p in ("MAJOR", "MINOR", "PATCH") if p not in parts]
    if missing:
        sys.exit("version.py: {} does not define SOCKFRAME_VERSION_{}".format(path, missing[0]))
    return "{MAJOR}.{MINOR}.{PATCH}".format(**parts)


if __name__ == "__main__":
    print(read_version())
