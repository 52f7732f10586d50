# Strict warnings, as a user who compiles with them sees the library: the single header, its
# templates instantiated by tests/strict/*.cpp, under g++ and clang++, C++17 and C++20, with
# -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast (and g++'s -Wuseless-cast) as errors.
# -fsyntax-only: the front end, template instantiation included, is where these warnings come
# from; the units are checked two at a time (xargs fails the job if any check fails).
need_base
need clang
python3 tools/amalgamate.py --check
checks=()
for cxx in g++ clang++; do
    for std in 17 20; do
        flags="$cxx -std=c++$std -fsyntax-only ${strict_warnings[*]} $(strict_extra "$cxx")"
        for tu in tests/strict/*.cpp; do
            checks+=("$flags -Isingle_include $tu")
        done
        # The headers the single header leaves out (the iostream adapters) and separate compilation.
        checks+=("$flags -Iinclude tests/strict/strict_warnings.cpp")
        checks+=("$flags -Iinclude -DSOCKFRAME_SEPARATE_COMPILATION src/sockframe.cpp")
    done
done
# Every public header on its own, but those that need a third-party library (TLS: job 67, Asio:
# job 70) and the implementation file of separate compilation.
section "self-contained headers"
self_contained $(cd include && find sockframe -name '*.hpp' ! -path '*/tls*' ! -name asio.hpp ! -path '*/impl/*' | sort)
section "separate compilation: a unit emits nothing of sockframe's"
# With SOCKFRAME_SEPARATE_COMPILATION the compiled part holds every definition that must be
# emitted (the error category among them); a unit that includes everything and uses nothing emits
# none of it: the compiler's back end then has nothing to do, which is part of the include's cost.
unit=$(mktemp --suffix=.o)
for cxx in g++ clang++; do
    for std in 17 20; do
        for dir in include single_include; do
            echo '#include <sockframe/sockframe.hpp>' |
                $cxx -std=c++$std -O0 -c -x c++ - -I$dir -DSOCKFRAME_SEPARATE_COMPILATION -o "$unit"
            emitted=$(nm -C --defined-only "$unit" | grep sockframe || true)
            [ -z "$emitted" ] || { rm -f "$unit"; echo "$cxx C++$std $dir emits: $emitted" >&2; exit 1; }
        done
    done
done
rm -f "$unit"
echo "separate compilation: nothing of sockframe's emitted (g++, clang++; C++17, C++20; both header trees)"
# ... and a unit that uses the socket layer calls the OS layer's wrappers and the address parsers
# in the compiled part instead of compiling them itself, even where the optimiser would inline them.
unit=$(mktemp --suffix=.o)
for dir in include single_include; do
    g++ -std=c++17 -O2 -c -x c++ - -I$dir -DSOCKFRAME_SEPARATE_COMPILATION -o "$unit" <<'EOF_UNIT'
#include <sockframe/sockframe.hpp>
int uses_the_os_layer() {
    std::error_code ec;
    auto address = sockframe::ipv4_address::parse("127.0.0.1", 1, ec);
    auto s = sockframe::tcp_stream::connect(address, ec);
    return ec ? 1 : 0;
}
EOF_UNIT
    symbols=$(nm -C "$unit")
    for f in 'detail::open_socket(' 'detail::connect_socket(' 'ipv4_address::parse('; do
        if ! grep -qF " U sockframe::v" <<<"$(grep -F "$f" <<<"$symbols")"; then
            rm -f "$unit"
            echo "separate compilation ($dir): the unit compiles $f itself instead of calling the library's" >&2
            exit 1
        fi
    done
done
rm -f "$unit"
echo "separate compilation: the OS layer and the address parsers are called in the compiled part"
section "strict warnings"
printf '%s\n' "${checks[@]}" | xargs -P 2 -d '\n' -I '{}' sh -c 'echo "{}" && {}'
echo "strict warnings: the single header is clean under g++ and clang++, C++17 and C++20 (${#checks[@]} checks)"
section "optimiser-dependent warnings"
# -Warray-bounds, -Wstringop-overflow and -Wmaybe-uninitialized come from g++'s optimiser, which
# -fsyntax-only never runs: the strict units compiled at -O2, -Wall -Wextra as errors.
optimised=()
for tu in tests/strict/*.cpp; do
    optimised+=("g++ -std=c++20 -O2 -Wall -Wextra -Werror -c -Isingle_include $tu -o /dev/null")
done
printf '%s\n' "${optimised[@]}" | xargs -P 2 -d '\n' -I '{}' sh -c 'echo "{}" && {}'
echo "optimiser-dependent warnings: none at -O2 (${#optimised[@]} units)"
