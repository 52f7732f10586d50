#!/usr/bin/env bash
# Consumer tests: builds and runs a small program that gets sockframe the way a user would, as
# C++17 and C++20, warnings as errors. The program (common/) has two translation units that include
# <sockframe/sockframe.hpp> and exchange bytes over loopback TCP and UDP.
#
#   tests/consumers/run.sh KIND
#
#   single_header     copy single_include/sockframe/sockframe.hpp into a tree, compile with -I
#   find_package      cmake --install into a prefix, then find_package(sockframe 0.1 CONFIG REQUIRED)
#   add_subdirectory  add_subdirectory(<sockframe checkout>); the consumer's ctest sees only its tests
#   fetchcontent      FetchContent from a local git snapshot of the checkout; same ctest check
#   pkg_config        cmake --install, move the prefix, `pkg-config --cflags sockframe`
#   meson             Meson subproject: subprojects/sockframe/ (C++17) and a sockframe.wrap (C++20)
#   vcpkg             the install tree as ports/sockframe/portfile.cmake makes it, then find_package
#   conan             conanfile.py checked and run against stub conan modules; test_package built
#
# Environment (all optional; the ctest registration in CMakeLists.txt sets them):
#   SOCKFRAME_SOURCE_DIR   the sockframe checkout (default: two levels above this script)
#   CONSUMER_WORK_DIR      scratch directory, wiped first (default: build/consumers/KIND)
#   CXX                    C++ compiler for every consumer (default: c++)
#   CMAKE_COMMAND, CTEST_COMMAND   (default: cmake, ctest on PATH)
#   CMAKE_GENERATOR        honoured by cmake as usual
#   CONSUMER_STANDARDS     default "17 20"
#   SOCKFRAME_CONSUMER_STRICT   if set, a missing tool fails the test instead of skipping it
# Exit status: 0 passed, 77 skipped (a tool is missing: the message says which), other: failed.
set -euo pipefail

kind=${1:?usage: run.sh KIND (single_header find_package add_subdirectory fetchcontent pkg_config meson vcpkg conan)}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${SOCKFRAME_SOURCE_DIR:-$here/../..}" && pwd)
work=${CONSUMER_WORK_DIR:-$src/build/consumers/$kind}
export CXX=${CXX:-c++}
cmake=${CMAKE_COMMAND:-cmake}
ctest=${CTEST_COMMAND:-ctest}
standards=${CONSUMER_STANDARDS:-17 20}
warnings=(-Wall -Wextra -Wpedantic -Werror)
version=$(sed -n 's/^#define SOCKFRAME_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
          "$src/include/sockframe/version.hpp" | paste -sd. -)

log() { printf '[consumer %s] %s\n' "$kind" "$*"; }
fail() { printf '[consumer %s] FAILED: %s\n' "$kind" "$*" >&2; exit 1; }
skip() {
    [ -z "${SOCKFRAME_CONSUMER_STRICT:-}" ] || fail "$* (SOCKFRAME_CONSUMER_STRICT is set: nothing may be skipped)"
    printf '[consumer %s] SKIPPED: %s\n' "$kind" "$*"
    exit 77
}
require() { command -v "$1" >/dev/null 2>&1 || skip "$1 not found (${2:-install it to run this test})"; }

rm -rf "$work"
mkdir -p "$work"
log "sockframe $version from $src, CXX=$CXX, work dir $work"

# snapshot DEST: the checkout's files (tracked and untracked, not ignored), without build trees.
snapshot() {
    local dest=$1
    mkdir -p "$dest"
    if command -v git >/dev/null 2>&1 && git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$src" && git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
            tar --null -T - -cf -) | tar -xf - -C "$dest"
    else
        (cd "$src" && tar --exclude='./build*' --exclude='./_build*' --exclude='./.git' -cf - .) | tar -xf - -C "$dest"
    fi
}

# git_snapshot DIR: a git repository holding the checkout's current files, tagged v$version.
git_snapshot() {
    local repo=$1
    snapshot "$repo"
    git -C "$repo" init -q
    git -C "$repo" add -A
    git -C "$repo" -c user.name=consumer-test -c user.email=consumer-test@localhost \
        -c commit.gpgsign=false commit -qm "snapshot for the consumer test"
    git -C "$repo" tag "v$version"
}

# install_sockframe PREFIX [CMAKE_ARGS...]: configures sockframe alone (tests, examples, tools and
# benchmarks off, as a package manager does) and installs it into PREFIX.
install_sockframe() {
    local prefix=$1
    shift
    "$cmake" -S "$src" -B "$work/sockframe-build" -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DSOCKFRAME_BUILD_TESTS=OFF -DSOCKFRAME_BUILD_EXAMPLES=OFF -DSOCKFRAME_BUILD_TOOLS=OFF \
        -DSOCKFRAME_BUILD_BENCHMARKS=OFF "$@" >"$work/sockframe-configure.log" ||
        { cat "$work/sockframe-configure.log"; fail "configuring sockframe for install"; }
    "$cmake" --build "$work/sockframe-build" >/dev/null
    "$cmake" --install "$work/sockframe-build" >"$work/sockframe-install.log" ||
        { cat "$work/sockframe-install.log"; fail "cmake --install"; }
}

# check_install_tree PREFIX CMAKEDIR: only headers, package files and sockframe.pc; every header.
check_install_tree() {
    local prefix=$1 cmakedir=$2 f bad=""
    while IFS= read -r f; do
        case "$f" in
            include/sockframe/*.hpp | "$cmakedir"/*.cmake | share/pkgconfig/sockframe.pc) ;;
            *) bad+=" $f" ;;
        esac
    done < <(cd "$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
    [ -z "$bad" ] || fail "unexpected files in the install tree:$bad"
    for f in sockframeConfig.cmake sockframeConfigVersion.cmake sockframeTargets.cmake; do
        [ -f "$prefix/$cmakedir/$f" ] || fail "$cmakedir/$f not installed"
    done
    diff <(cd "$src/include" && find sockframe -name '*.hpp' | sort) \
         <(cd "$prefix/include" && find sockframe -name '*.hpp' | sort) ||
        fail "the installed headers differ from include/sockframe/"
    log "install tree ok: include/sockframe/ ($(cd "$prefix/include" && find sockframe -name '*.hpp' | wc -l) headers), $cmakedir/, share/pkgconfig/sockframe.pc; nothing else"
}

# cmake_consumer NAME SOURCE_DIR STD [CMAKE_ARGS...]: configure, build, and run the consumer's
# own ctest, which must list exactly the consumer's one test.
cmake_consumer() {
    local name=$1 dir=$2 std=$3
    shift 3
    local build="$work/$name-cxx$std"
    log "$name, C++$std: configure + build"
    "$cmake" -S "$dir" -B "$build" -DCMAKE_CXX_STANDARD="$std" -DCMAKE_BUILD_TYPE=Debug "$@" \
        >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; fail "$name C++$std: configure"; }
    "$cmake" --build "$build" -j 2 >"$build.build.log" 2>&1 ||
        { cat "$build.build.log"; fail "$name C++$std: build"; }
    local listed
    listed=$(cd "$build" && "$ctest" -N)
    if ! grep -q 'Total Tests: 1$' <<<"$listed" || ! grep -q 'consumer_exchanges_bytes' <<<"$listed"; then
        printf '%s\n' "$listed"
        fail "$name C++$std: the consumer's ctest must list only its own test"
    fi
    if find "$build" -name 'sockframe_test_*' -type f | grep -q .; then
        fail "$name C++$std: sockframe's tests were built inside the consumer"
    fi
    (cd "$build" && "$ctest" --output-on-failure) >"$build.test.log" 2>&1 ||
        { cat "$build.test.log"; fail "$name C++$std: the consumer's test"; }
    "$build/consumer"
}

# compile_consumer OUT STD FLAGS...: the consumer built by hand, as a Makefile would.
compile_consumer() {
    local out=$1 std=$2
    shift 2
    log "$(basename "$out"): $CXX -std=c++$std $*"
    "$CXX" -std=c++"$std" "${warnings[@]}" "$@" -c "$here/common/exchange.cpp" -o "$out.exchange.o"
    "$CXX" -std=c++"$std" "${warnings[@]}" "$@" -c "$here/common/main.cpp" -o "$out.main.o"
    "$CXX" "$out.exchange.o" "$out.main.o" -o "$out" ${SOCKFRAME_CONSUMER_LIBS:-}
    "$out"
}

case "$kind" in
single_header)
    header="$src/single_include/sockframe/sockframe.hpp"
    [ -f "$header" ] || fail "$header is missing: run \`python3 tools/amalgamate.py\`"
    if command -v python3 >/dev/null 2>&1; then
        python3 "$src/tools/amalgamate.py" --check >/dev/null ||
            fail "single_include/sockframe/sockframe.hpp is out of date: run \`python3 tools/amalgamate.py\` and commit it"
    fi
    mkdir -p "$work/third_party/sockframe"
    cp "$header" "$work/third_party/sockframe/sockframe.hpp"
    for std in $standards; do
        compile_consumer "$work/consumer-cxx$std" "$std" -I"$work/third_party"
    done
    ;;

find_package)
    install_sockframe "$work/prefix"
    check_install_tree "$work/prefix" share/cmake/sockframe
    for std in $standards; do
        cmake_consumer find_package "$here/cmake_find_package" "$std" -DCMAKE_PREFIX_PATH="$work/prefix"
    done
    # SameMajorVersion: 0.1 and 0 are found, another major version is not.
    mkdir -p "$work/version-check"
    cat >"$work/version-check/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.14)
project(version_check LANGUAGES NONE)
find_package(sockframe 1 CONFIG QUIET)
if(sockframe_FOUND)
  message(FATAL_ERROR "find_package(sockframe 1) accepted version ${sockframe_VERSION}")
endif()
find_package(sockframe ${EXPECTED} EXACT CONFIG REQUIRED)
EOF
    "$cmake" -S "$work/version-check" -B "$work/version-check/build" -DEXPECTED="$version" \
        -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/version-check.log" 2>&1 ||
        { cat "$work/version-check.log"; fail "version file check"; }
    log "version file: $version found EXACT, major 1 refused"
    ;;

add_subdirectory)
    for std in $standards; do
        cmake_consumer add_subdirectory "$here/cmake_add_subdirectory" "$std" -DSOCKFRAME_SOURCE_DIR="$src"
    done
    ;;

fetchcontent)
    require git "FetchContent clones with git"
    git_snapshot "$work/sockframe.git"
    for std in $standards; do
        cmake_consumer fetchcontent "$here/cmake_fetchcontent" "$std" \
            -DSOCKFRAME_GIT_REPOSITORY="file://$work/sockframe.git" -DSOCKFRAME_GIT_TAG="v$version"
    done
    ;;

pkg_config)
    require pkg-config "Debian package pkg-config"
    install_sockframe "$work/staging"
    # The .pc file is relocatable: use the tree from somewhere else than where it was installed.
    mv "$work/staging" "$work/prefix"
    export PKG_CONFIG_PATH="$work/prefix/share/pkgconfig"
    got=$(pkg-config --modversion sockframe)
    [ "$got" = "$version" ] || fail "pkg-config --modversion sockframe: $got, expected $version"
    cflags=$(pkg-config --cflags sockframe)
    log "pkg-config --cflags sockframe: $cflags"
    [ -f "$(sed -n 's/^-I\([^ ]*\).*/\1/p' <<<"$cflags")/sockframe/sockframe.hpp" ] ||
        fail "pkg-config --cflags does not point at the installed headers"
    export SOCKFRAME_CONSUMER_LIBS="$(pkg-config --libs sockframe)"
    for std in $standards; do
        # shellcheck disable=SC2086
        compile_consumer "$work/consumer-cxx$std" "$std" $cflags
    done
    ;;

meson)
    require meson "Debian package meson"
    require ninja "Debian package ninja-build"
    for std in $standards; do
        project="$work/project-cxx$std"
        mkdir -p "$project/subprojects"
        cp "$here/meson_subproject/meson.build" "$here/common/"*.cpp "$here/common/"*.hpp "$project/"
        if [ "$std" = 17 ] || ! command -v git >/dev/null 2>&1; then
            how="subprojects/sockframe/ (a copy of the source tree)"
            snapshot "$project/subprojects/sockframe"
        else
            how="subprojects/sockframe.wrap (wrap-git, file:// snapshot)"
            [ -d "$work/sockframe.git" ] || git_snapshot "$work/sockframe.git"
            cat >"$project/subprojects/sockframe.wrap" <<EOF
[wrap-git]
url = file://$work/sockframe.git
revision = v$version
depth = 1

[provide]
dependency_names = sockframe
EOF
        fi
        log "meson, C++$std, $how"
        meson setup "$work/build-cxx$std" "$project" -Dcpp_std=c++"$std" --force-fallback-for=sockframe \
            >"$work/build-cxx$std.setup.log" 2>&1 || { cat "$work/build-cxx$std.setup.log"; fail "meson setup"; }
        grep -q "Subproject sockframe finished" "$work/build-cxx$std.setup.log" ||
            { cat "$work/build-cxx$std.setup.log"; fail "sockframe was not taken from the subproject"; }
        meson compile -C "$work/build-cxx$std" >"$work/build-cxx$std.compile.log" 2>&1 ||
            { cat "$work/build-cxx$std.compile.log"; fail "meson compile"; }
        listed=$(meson test -C "$work/build-cxx$std" --list 2>/dev/null | grep -v "^ninja:")
        [ "$(grep -c . <<<"$listed")" = 1 ] && grep -q consumer_exchanges_bytes <<<"$listed" ||
            { printf '%s\n' "$listed"; fail "the consumer's meson test list must hold only its own test"; }
        meson test -C "$work/build-cxx$std" >"$work/build-cxx$std.test.log" 2>&1 ||
            { cat "$work/build-cxx$std.test.log"; fail "meson test"; }
        "$work/build-cxx$std/consumer"
    done
    ;;

vcpkg)
    # What ports/sockframe/portfile.cmake does, step by step, without vcpkg: the same configure
    # options, a release-only install, vcpkg_cmake_config_fixup's move and path rewrite, the
    # copyright and usage files. Then a consumer finds the package in the "installed" tree.
    portfile="$src/ports/sockframe/portfile.cmake"
    [ -f "$portfile" ] || fail "$portfile is missing"
    require python3 "used to read the portfile"
    port_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$src/ports/sockframe/vcpkg.json")
    [ "$port_version" = "$version" ] || fail "ports/sockframe/vcpkg.json says version $port_version, version.hpp $version"
    mapfile -t options < <(python3 "$here/vcpkg_mimic.py" options "$portfile")
    config_path=$(python3 "$here/vcpkg_mimic.py" config-path "$portfile")
    log "portfile: OPTIONS ${options[*]}; CONFIG_PATH $config_path"
    # The port builds nothing but the install: every optional part is off in the portfile itself.
    for off in SOCKFRAME_BUILD_TESTS SOCKFRAME_BUILD_EXAMPLES SOCKFRAME_BUILD_BENCHMARKS SOCKFRAME_BUILD_TOOLS; do
        printf '%s\n' "${options[@]}" | grep -qx -- "-D$off=OFF" || fail "the portfile does not set -D$off=OFF"
    done
    package="$work/packages/sockframe_x64-linux"
    install_sockframe "$package" -DCMAKE_BUILD_TYPE=Release "${options[@]}"
    [ -d "$package/$config_path" ] || fail "$config_path not in the install tree (vcpkg_cmake_config_fixup needs it)"
    check_install_tree "$package" "$config_path"
    for d in bin lib debug; do
        [ ! -e "$package/$d" ] || fail "$d/ in a header-only install tree (vcpkg's post-build checks reject it)"
    done
    python3 "$here/vcpkg_mimic.py" fixup "$package" "$config_path" share/sockframe
    [ -f "$src/LICENSE" ] || fail "LICENSE missing (vcpkg_install_copyright)"
    cp "$src/LICENSE" "$package/share/sockframe/copyright"
    cp "$src/ports/sockframe/usage" "$package/share/sockframe/usage"
    grep -q 'find_package(sockframe CONFIG REQUIRED)' "$package/share/sockframe/usage" &&
        grep -q 'sockframe::sockframe' "$package/share/sockframe/usage" || fail "ports/sockframe/usage does not show find_package + sockframe::sockframe"
    mkdir -p "$work/installed"
    cp -R "$package" "$work/installed/x64-linux"
    for std in $standards; do
        cmake_consumer vcpkg "$here/cmake_find_package" "$std" -DCMAKE_PREFIX_PATH="$work/installed/x64-linux"
    done
    ;;

conan)
    # conanfile.py run against stub conan modules: set_version, layout, package, package_id and
    # package_info; the package folder it makes then gets a config file like CMakeDeps writes
    # (from cmake_file_name / cmake_target_name), and test_package/ builds against it.
    require python3 "used to check conanfile.py"
    python3 "$here/conan_check.py" "$src" "$work/package" "$work/deps"
    for std in $standards; do
        build="$work/test_package-cxx$std"
        log "test_package, C++$std"
        "$cmake" -S "$src/test_package" -B "$build" -DCMAKE_CXX_STANDARD="$std" \
            -DCMAKE_CXX_FLAGS="${warnings[*]}" -Dsockframe_DIR="$work/deps" >"$build.configure.log" 2>&1 ||
            { cat "$build.configure.log"; fail "test_package C++$std: configure"; }
        "$cmake" --build "$build" >"$build.build.log" 2>&1 || { cat "$build.build.log"; fail "test_package C++$std: build"; }
        "$build/example"
        cmake_consumer conan "$here/cmake_find_package" "$std" -Dsockframe_DIR="$work/deps"
    done
    ;;

*)
    fail "unknown kind: $kind"
    ;;
esac
log "passed"
