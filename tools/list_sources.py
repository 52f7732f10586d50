#!/usr/bin/env python3
"""Lists the files of one directory matching a glob pattern, sorted, one per line, as paths
relative to the directory given. Meson has no glob: meson.build uses this to build one test
program per tests/test_*.cpp and one example per examples/*.cpp. Python 3 stdlib only.

    tools/list_sources.py tests 'test_*.cpp'
"""

import fnmatch
import os
import sys


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: list_sources.py DIRECTORY PATTERN")
    directory, pattern = argv
    if not os.path.isabs(directory):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        directory = os.path.join(root, directory)
    if not os.path.isdir(directory):
        return 0
    for name in sorted(os.listdir(directory)):
        if fnmatch.fnmatchcase(name, pattern) and os.path.isfile(os.path.join(directory, name)):
            print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
