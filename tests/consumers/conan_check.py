#!/usr/bin/env python3
"""Checks conanfile.py without Conan (which cannot be installed here), for `run.sh conan`.

    conan_check.py SOURCE_DIR PACKAGE_DIR DEPS_DIR

1. Parses conanfile.py and test_package/conanfile.py (ast) and checks the declarations a Conan 2
   header-only recipe needs.
2. Imports conanfile.py against small stand-ins for the conan modules it uses and runs its methods
   as `conan create` would: set_version (must match include/sockframe/version.hpp), layout,
   package_id (must clear the info), package (into PACKAGE_DIR: every header and the license),
   package_info (for Linux and for Windows).
3. Writes DEPS_DIR/<cmake_file_name>-config.cmake defining <cmake_target_name> from that package
   folder, as CMakeDeps would, so that test_package/ can be built against it.
Python 3 stdlib only.
"""

import ast
import fnmatch
import os
import re
import shutil
import sys
import types

errors = []


def check(condition, message):
    if not condition:
        errors.append(message)
    return condition


def class_attrs(cls):
    attrs = {}
    for node in cls.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                attrs[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                attrs[node.targets[0].id] = None
    return attrs


def recipe_class(tree, path):
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)
               and any(getattr(b, "id", None) == "ConanFile" for b in n.bases)]
    if not check(len(classes) == 1, "{}: expected one class deriving from ConanFile".format(path)):
        sys.exit("\n".join(errors))
    return classes[0]


def static_checks(src):
    path = os.path.join(src, "conanfile.py")
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
               and n.module.startswith("conan") for a in n.names}
    check("ConanFile" in imports, "conanfile.py: must import ConanFile from conan (Conan 2)")
    cls = recipe_class(tree, path)
    attrs = class_attrs(cls)
    methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    check(attrs.get("name") == "sockframe", "conanfile.py: name must be 'sockframe'")
    check(attrs.get("package_type") == "header-library", "conanfile.py: package_type must be 'header-library'")
    check(attrs.get("no_copy_source") is True, "conanfile.py: no_copy_source must be True")
    check(attrs.get("license") == "MIT", "conanfile.py: license must be 'MIT'")
    check("version" not in attrs, "conanfile.py: the version must come from version.hpp (set_version), not a literal")
    for m in ("set_version", "layout", "package_id", "package", "package_info"):
        check(m in methods, "conanfile.py: method {}() missing".format(m))
    check(any(isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "required_conan_version"
              for n in tree.body), "conanfile.py: required_conan_version missing")

    tp = os.path.join(src, "test_package", "conanfile.py")
    tp_text = open(tp, encoding="utf-8").read()
    tp_cls = recipe_class(ast.parse(tp_text, tp), tp)
    tp_methods = {n.name for n in tp_cls.body if isinstance(n, ast.FunctionDef)}
    for m in ("requirements", "layout", "build", "test"):
        check(m in tp_methods, "test_package/conanfile.py: method {}() missing".format(m))
    check("tested_reference_str" in tp_text, "test_package/conanfile.py: must require self.tested_reference_str")
    check("CMakeDeps" in tp_text, "test_package/conanfile.py: must use the CMakeDeps generator")
    cm = open(os.path.join(src, "test_package", "CMakeLists.txt"), encoding="utf-8").read()
    check("find_package(sockframe CONFIG REQUIRED)" in cm,
          "test_package/CMakeLists.txt: must find_package(sockframe CONFIG REQUIRED)")
    check("sockframe::sockframe" in cm, "test_package/CMakeLists.txt: must link sockframe::sockframe")


# --- stand-ins for the parts of the conan package the recipe uses ---------------------------------

class Settings:
    def __init__(self, os_name):
        self.os = os_name


class Info:
    def __init__(self):
        self.cleared = False

    def clear(self):
        self.cleared = True


class CppInfo:
    def __init__(self):
        self.includedirs = ["include"]
        self.bindirs = ["bin"]
        self.libdirs = ["lib"]
        self.system_libs = []
        self.libs = []
        self.defines = []
        self.properties = {}

    def set_property(self, name, value):
        self.properties[name] = value

    def get_property(self, name):
        return self.properties.get(name)


class ConanFile:
    def __init__(self, recipe_folder, package_folder, os_name="Linux"):
        self.recipe_folder = recipe_folder
        self.source_folder = recipe_folder
        self.export_sources_folder = recipe_folder
        self.package_folder = package_folder
        self.settings = Settings(os_name)
        self.info = Info()
        self.cpp_info = CppInfo()
        self.version = None
        self.layout_called = None

    def output(self, *args):
        pass


def stub_copy(conanfile, pattern, src, dst, keep_path=True, excludes=None):
    copied = []
    if not any(c in pattern for c in "*?["):  # a plain name: no need to walk the tree
        return stub_copy_one(os.path.join(src, pattern), os.path.join(dst, pattern))
    for directory, _, files in os.walk(src):
        for f in sorted(files):
            full = os.path.join(directory, f)
            rel = os.path.relpath(full, src)
            if fnmatch.fnmatch(rel.replace(os.sep, "/"), pattern):  # as Conan: '*' spans folders
                target = os.path.join(dst, rel if keep_path else f)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(full, target)
                copied.append(target)
    return copied


def stub_copy_one(source, target):
    if not os.path.isfile(source):
        return []
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy2(source, target)
    return [target]


def stub_load(conanfile, path, encoding="utf-8"):
    with open(path, encoding=encoding) as f:
        return f.read()


def stub_basic_layout(conanfile, src_folder=".", build_folder=None):
    conanfile.layout_called = src_folder


def install_stubs():
    conan = types.ModuleType("conan")
    conan.ConanFile = ConanFile
    tools = types.ModuleType("conan.tools")
    files = types.ModuleType("conan.tools.files")
    files.copy = stub_copy
    files.load = stub_load
    layout = types.ModuleType("conan.tools.layout")
    layout.basic_layout = stub_basic_layout
    conan.tools = tools
    tools.files = files
    tools.layout = layout
    sys.modules.update({"conan": conan, "conan.tools": tools, "conan.tools.files": files,
                        "conan.tools.layout": layout})


def run_recipe(src, package_dir, deps_dir):
    install_stubs()
    namespace = {"__file__": os.path.join(src, "conanfile.py"), "__name__": "conanfile"}
    exec(compile(open(namespace["__file__"], encoding="utf-8").read(), namespace["__file__"], "exec"), namespace)
    cls = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, ConanFile) and v is not ConanFile][0]

    with open(os.path.join(src, "include", "sockframe", "version.hpp"), encoding="utf-8") as f:
        parts = dict(re.findall(r"#define\s+SOCKFRAME_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)", f.read()))
    expected = "{MAJOR}.{MINOR}.{PATCH}".format(**parts)

    shutil.rmtree(package_dir, ignore_errors=True)
    recipe = cls(src, package_dir)
    recipe.set_version()
    check(recipe.version == expected, "set_version(): {!r}, version.hpp says {!r}".format(recipe.version, expected))
    recipe.layout()
    check(recipe.layout_called is not None, "layout() must call basic_layout")
    recipe.package_id()
    check(recipe.info.cleared, "package_id() must call self.info.clear()")
    recipe.package()
    headers = sorted(os.path.relpath(os.path.join(d, f), os.path.join(src, "include"))
                     for d, _, fs in os.walk(os.path.join(src, "include", "sockframe")) for f in fs if f.endswith(".hpp"))
    packaged = sorted(os.path.relpath(os.path.join(d, f), os.path.join(package_dir, "include"))
                      for d, _, fs in os.walk(os.path.join(package_dir, "include")) for f in fs)
    check(headers == packaged, "package(): headers packaged {} != include/ {}".format(packaged, headers))
    check(os.path.isfile(os.path.join(package_dir, "licenses", "LICENSE")), "package(): licenses/LICENSE missing")
    everything = sorted(os.path.relpath(os.path.join(d, f), package_dir) for d, _, fs in os.walk(package_dir) for f in fs)
    check(all(p.startswith(("include" + os.sep, "licenses" + os.sep)) for p in everything),
          "package(): unexpected files {}".format(everything))

    results = {}
    for os_name in ("Linux", "Windows"):
        r = cls(src, package_dir, os_name)
        r.set_version()
        r.package_info()
        results[os_name] = r.cpp_info
        info = r.cpp_info
        check(info.bindirs == [] and info.libdirs == [], "package_info(): bindirs and libdirs must be empty")
        check(info.includedirs == ["include"], "package_info(): includedirs must stay ['include']")
        check(info.get_property("cmake_file_name") == "sockframe", "package_info(): cmake_file_name must be 'sockframe'")
        check(info.get_property("cmake_target_name") == "sockframe::sockframe",
              "package_info(): cmake_target_name must be 'sockframe::sockframe'")
        check(info.get_property("pkg_config_name") == "sockframe", "package_info(): pkg_config_name must be 'sockframe'")
    check("ws2_32" in results["Windows"].system_libs, "package_info(): Windows needs system_libs ws2_32")
    check("ws2_32" not in results["Linux"].system_libs, "package_info(): ws2_32 only on Windows")

    if errors:
        return
    # What CMakeDeps would generate for a Linux consumer, reduced to the target itself.
    linux = results["Linux"]
    os.makedirs(deps_dir, exist_ok=True)
    target = linux.get_property("cmake_target_name")
    includes = ";".join(os.path.join(package_dir, d).replace(os.sep, "/") for d in linux.includedirs)
    with open(os.path.join(deps_dir, linux.get_property("cmake_file_name") + "-config.cmake"), "w") as f:
        f.write("# Stand-in for the CMakeDeps output of package {}/{}\n".format(recipe.name, recipe.version))
        f.write("if(NOT TARGET {0})\n  add_library({0} INTERFACE IMPORTED)\n".format(target))
        f.write('  set_target_properties({} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "{}"'.format(target, includes))
        f.write(' INTERFACE_LINK_LIBRARIES "{}")\nendif()\n'.format(";".join(linux.system_libs)))
    with open(os.path.join(deps_dir, linux.get_property("cmake_file_name") + "-config-version.cmake"), "w") as f:
        f.write('set(PACKAGE_VERSION "{}")\n'.format(recipe.version))
        f.write("if(PACKAGE_FIND_VERSION_MAJOR STREQUAL \"{}\" AND NOT PACKAGE_FIND_VERSION VERSION_GREATER "
                "PACKAGE_VERSION)\n  set(PACKAGE_VERSION_COMPATIBLE TRUE)\nelse()\n"
                "  set(PACKAGE_VERSION_COMPATIBLE FALSE)\nendif()\n".format(recipe.version.split(".")[0]))
    print("conanfile.py ok: sockframe/{}, header-library, {} headers packaged".format(recipe.version, len(packaged)))


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    src, package_dir, deps_dir = (os.path.abspath(a) for a in argv)
    static_checks(src)
    if not errors:
        run_recipe(src, package_dir, deps_dir)
    if errors:
        print("conanfile.py check FAILED:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
