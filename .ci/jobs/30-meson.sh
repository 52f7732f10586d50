# Meson (g++, C++20, buildtype plain: -O0 without -g): what meson.build defines, proved by building
# and running it: every example and its loopback scenario, sfcat, separate compilation, and the test
# programs of one of each kind (the shared main and all-headers unit, a test with an extra source,
# the coroutine tests, which only C++20 builds); the others are made by the same loop, and the whole
# suite is built and run by CMake in jobs 10, 20, 60 and 75. Then the install tree of the main
# project: headers, share/pkgconfig/sockframe.pc and sfcat only, usable with pkg-config.
need_base
need meson pkg-config
build=build/meson-gcc-cxx20
rm -rf "$build" build/meson-prefix
CXX=g++ meson setup "$build" -Dcpp_std=c++20 -Dbuildtype=plain --prefix="$PWD/build/meson-prefix"
tests=(socket framed server event_loop coro config)
examples=$(cd examples && ls *.cpp | sed 's/\.cpp$//')
meson compile -C "$build" $(printf 'sockframe_test_%s ' "${tests[@]}") sockframe_test_separate sfcat $examples
scenarios=$(meson test -C "$build" --list --no-rebuild 2>/dev/null | grep '^example_')
[ -n "$scenarios" ] || { echo "meson: no example scenario defined" >&2; exit 1; }
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 "${tests[@]}" separate_compilation $scenarios

meson install -C "$build" --no-rebuild >/dev/null
unexpected=$(cd build/meson-prefix && find . -type f | grep -v -e '^\./include/sockframe/.*\.hpp$' -e '^\./share/pkgconfig/sockframe\.pc$' -e '^\./bin/sfcat$' || true)
[ -z "$unexpected" ] || { echo "meson install: unexpected files: $unexpected" >&2; exit 1; }
diff <(cd include && find sockframe -name '*.hpp' | sort) <(cd build/meson-prefix/include && find sockframe -name '*.hpp' | sort)
version=$(python3 tools/version.py)
[ "$(PKG_CONFIG_PATH="$PWD/build/meson-prefix/share/pkgconfig" pkg-config --modversion sockframe)" = "$version" ]
echo "meson install: headers, sockframe.pc ($version) and sfcat only"
