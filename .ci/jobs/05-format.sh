# Code style: every C++ file is formatted with the checked-in .clang-format.
need clang-format git
files=$(git ls-files '*.hpp' '*.cpp' '*.inl' | grep -v '^single_include/')
bad=()
for f in $files; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
    printf 'not formatted: %s\n' "${bad[@]}"
    echo "To fix: clang-format -i ${bad[*]}"
    exit 1
fi
echo "clang-format: $(wc -w <<<"$files") files formatted"

# Every header starts with its license line.
missing=()
for f in $(git ls-files 'include/*.hpp' 'include/*.h'); do
    [ "$(head -n 1 "$f")" = "// SPDX-License-Identifier: MIT" ] || missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
    printf 'no "// SPDX-License-Identifier: MIT" first line: %s\n' "${missing[@]}"
    exit 1
fi
echo "SPDX: every header in include/ starts with its license line"
