#!/usr/bin/env python3
"""Helpers for `run.sh vcpkg`, which repeats what ports/sockframe/portfile.cmake asks vcpkg to do.

    vcpkg_mimic.py options PORTFILE        the -D options given to vcpkg_cmake_configure, one a line
    vcpkg_mimic.py config-path PORTFILE    the CONFIG_PATH given to vcpkg_cmake_config_fixup
    vcpkg_mimic.py fixup PREFIX FROM TO    move PREFIX/FROM to PREFIX/TO and rewrite the relative
                                           prefix computations, as vcpkg_cmake_config_fixup does
"""

import os
import re
import shutil
import sys


def call_body(text, function):
    m = re.search(r"\b" + function + r"\s*\((.*?)\)", text, re.S)
    if not m:
        sys.exit("{} is not called in the portfile".format(function))
    return re.sub(r"#[^\n]*", "", m.group(1))


def options(portfile):
    body = call_body(open(portfile).read(), "vcpkg_cmake_configure")
    return re.findall(r"-D[A-Za-z0-9_]+(?::[A-Z]+)?=[^\s)]+", body)


def config_path(portfile):
    body = call_body(open(portfile).read(), "vcpkg_cmake_config_fixup")
    m = re.search(r"CONFIG_PATH\s+(\S+)", body)
    if not m:
        sys.exit("vcpkg_cmake_config_fixup has no CONFIG_PATH")
    return m.group(1).strip('"')


def fixup(prefix, source, dest):
    src_dir = os.path.join(prefix, source)
    dst_dir = os.path.join(prefix, dest)
    os.makedirs(dst_dir, exist_ok=True)
    for name in os.listdir(src_dir):
        shutil.move(os.path.join(src_dir, name), os.path.join(dst_dir, name))
    # Remove the emptied directories (share/cmake/sockframe, then share/cmake).
    d = src_dir
    while os.path.normpath(d) != os.path.normpath(prefix) and not os.listdir(d):
        os.rmdir(d)
        d = os.path.dirname(d)
    depth = len([p for p in dest.split("/") if p])
    for name in os.listdir(dst_dir):
        if not name.endswith(".cmake"):
            continue
        path = os.path.join(dst_dir, name)
        text = open(path).read()
        # install(EXPORT) files: one get_filename_component(... PATH) per directory level.
        up = 'get_filename_component(_IMPORT_PREFIX "${_IMPORT_PREFIX}" PATH)\n'
        text = re.sub(r'(get_filename_component\(_IMPORT_PREFIX "\$\{CMAKE_CURRENT_LIST_FILE\}" PATH\)\n)'
                      r'(get_filename_component\(_IMPORT_PREFIX "\$\{_IMPORT_PREFIX\}" PATH\)\n)+',
                      lambda m: m.group(1) + up * depth, text)
        # configure_package_config_file: PACKAGE_PREFIX_DIR relative to the config file.
        text = re.sub(r'(get_filename_component\(PACKAGE_PREFIX_DIR "\$\{CMAKE_CURRENT_LIST_DIR\}/)(\.\./)+',
                      lambda m: m.group(1) + "../" * depth, text)
        open(path, "w").write(text)


def main(argv):
    if len(argv) == 2 and argv[0] == "options":
        print("\n".join(options(argv[1])))
    elif len(argv) == 2 and argv[0] == "config-path":
        print(config_path(argv[1]))
    elif len(argv) == 4 and argv[0] == "fixup":
        fixup(*argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
