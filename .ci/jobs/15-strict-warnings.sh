# Strict warnings, as a user who compiles with them sees the library: the single header, its
# templates instantiated by tests/strict/strict_warnings.cpp, under g++ and clang++, C++17 and
# C++20, with -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast (and g++'s -Wuseless-cast)
# as errors.
need_base
need clang
strict=(-Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast -Werror)
python3 tools/amalgamate.py --check
for cxx in g++ clang++; do
    extra=()
    [ "$cxx" = g++ ] && extra=(-Wuseless-cast)
    for std in 17 20; do
        echo "$cxx -std=c++$std ${strict[*]} ${extra[*]}"
        for tu in tests/strict/*.cpp; do
            "$cxx" -std=c++$std -c -o /dev/null -Isingle_include "${strict[@]}" "${extra[@]}" "$tu"
        done
        # The headers the single header leaves out (the iostream adapters) and separate compilation.
        "$cxx" -std=c++$std -c -o /dev/null -Iinclude "${strict[@]}" "${extra[@]}" tests/strict/strict_warnings.cpp
        "$cxx" -std=c++$std -c -o /dev/null -Iinclude -DSOCKFRAME_SEPARATE_COMPILATION "${strict[@]}" "${extra[@]}" src/sockframe.cpp
    done
done
echo "strict warnings: the single header is clean under g++ and clang++, C++17 and C++20"
