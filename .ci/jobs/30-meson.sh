# Meson: the whole suite and the examples (g++, C++20, buildtype plain: -O0 without -g), then the
# install tree of the main project: headers and share/pkgconfig/sockframe.pc only, usable with
# pkg-config.
need_base
need meson pkg-config
rm -rf build/meson-gcc-cxx20 build/meson-prefix
CXX=g++ meson setup build/meson-gcc-cxx20 -Dcpp_std=c++20 -Dbuildtype=plain --prefix="$PWD/build/meson-prefix"
meson compile -C build/meson-gcc-cxx20
meson test -C build/meson-gcc-cxx20 --print-errorlogs --num-processes 2

meson install -C build/meson-gcc-cxx20 --no-rebuild >/dev/null
unexpected=$(cd build/meson-prefix && find . -type f | grep -v -e '^\./include/sockframe/.*\.hpp$' -e '^\./share/pkgconfig/sockframe\.pc$' -e '^\./bin/sfcat$' || true)
[ -z "$unexpected" ] || { echo "meson install: unexpected files: $unexpected" >&2; exit 1; }
diff <(cd include && find sockframe -name '*.hpp' | sort) <(cd build/meson-prefix/include && find sockframe -name '*.hpp' | sort)
version=$(python3 tools/version.py)
[ "$(PKG_CONFIG_PATH="$PWD/build/meson-prefix/share/pkgconfig" pkg-config --modversion sockframe)" = "$version" ]
echo "meson install: headers, sockframe.pc ($version) and sfcat only"
