"""Conan 2 recipe for sockframe, a header-only C++17 socket and framing library.

    conan create .                      # package the checkout, then build and run test_package/
    # consumer: requires = "sockframe/0.1.0"; generators CMakeDeps + CMakeToolchain;
    #           find_package(sockframe CONFIG REQUIRED); target sockframe::sockframe
    # TLS: -o "sockframe/*:tls=True" (requires openssl/3.x); target sockframe::tls
"""

import os
import re

from conan import ConanFile
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout

required_conan_version = ">=2.0"


class SockframeConan(ConanFile):
    name = "sockframe"
    description = "Header-only C++17 sockets (TCP, UDP, Unix) and message framing"
    license = "MIT"
    url = "https://github.com/OWNER/sockframe"
    homepage = "https://github.com/OWNER/sockframe"
    topics = ("sockets", "networking", "framing", "header-only")
    package_type = "header-library"
    # Settings are read (os, for ws2_32) but do not change the package: see package_id().
    settings = "os", "arch", "compiler", "build_type"
    # tls: sockframe::tls (include/sockframe/tls.hpp) with OpenSSL 3 as a requirement
    options = {"tls": [True, False]}
    default_options = {"tls": False}
    exports_sources = "include/*", "LICENSE"
    no_copy_source = True

    def set_version(self):
        # The version is defined once, in include/sockframe/version.hpp.
        text = load(self, os.path.join(self.recipe_folder, "include", "sockframe", "version.hpp"))
        parts = dict(re.findall(r"#define\s+SOCKFRAME_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)", text))
        self.version = "{}.{}.{}".format(parts["MAJOR"], parts["MINOR"], parts["PATCH"])

    def layout(self):
        basic_layout(self, src_folder=".")

    def _tls(self):
        return bool(getattr(getattr(self, "options", None), "tls", False))

    def requirements(self):
        if self._tls():
            self.requires("openssl/[>=3 <4]")

    def package_id(self):
        # Header-only: one package for every configuration.
        self.info.clear()

    def package(self):
        copy(self, "LICENSE", src=self.source_folder, dst=os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", src=os.path.join(self.source_folder, "include"),
             dst=os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "sockframe")
        self.cpp_info.set_property("cmake_target_name", "sockframe::sockframe")
        self.cpp_info.set_property("pkg_config_name", "sockframe")
        # No header needs threads today; add "pthread" on Linux/FreeBSD here if one ever does.
        if self.settings.os == "Windows":
            self.cpp_info.system_libs = ["ws2_32"]
        if self._tls():
            # the same headers; the target then links OpenSSL and is also named sockframe::tls
            self.cpp_info.requires = ["openssl::ssl", "openssl::crypto"]
            self.cpp_info.defines = ["SOCKFRAME_HAS_TLS=1", "SOCKFRAME_HAS_OPENSSL=1"]
            self.cpp_info.set_property("cmake_target_aliases", ["sockframe::tls"])
