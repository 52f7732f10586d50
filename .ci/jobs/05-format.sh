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
