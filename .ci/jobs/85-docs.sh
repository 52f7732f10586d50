# Documentation: the Doxygen reference builds from the headers' /// comments with every warning an
# error (a public name without a comment, a broken reference, an unknown command); the figures in
# the README and docs/ are the ones the recorded runs in docs/bench/*.json hold (tables between
# <!-- bench:NAME:begin/end --> markers, tools/render_bench.py); every C++ block of the README
# and docs/ compiles (tools/check_doc_snippets.py); the README stays one page (at most 300 lines).
need doxygen python3 g++ libssl-dev
rm -rf build/doc
mkdir -p build/doc
if ! doxygen Doxyfile >build/doc/doxygen.log 2>&1 || [ -s build/doc/warnings.log ]; then
    cat build/doc/doxygen.log build/doc/warnings.log 2>/dev/null | sed 's|^|  |' | head -100
    echo "doxygen: warnings (see above); every public name needs a /// comment"
    exit 1
fi
[ -f build/doc/html/index.html ] || { echo "doxygen wrote no build/doc/html/index.html"; exit 1; }
echo "doxygen: reference in build/doc/html ($(ls build/doc/html/*.html | wc -l) pages), no warnings"
python3 tools/render_bench.py check
echo "benchmark tables: rendered from docs/bench/*.json"
python3 tools/check_doc_snippets.py
lines=$(wc -l <README.md)
[ "$lines" -le 300 ] || { echo "README.md has $lines lines (at most 300: move the rest to docs/)"; exit 1; }
echo "README.md: $lines lines"
