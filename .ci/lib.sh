# Shared helpers for test.sh, demo.sh and the CI jobs. Source it; do not run it.

# need PACKAGE...: installs the Debian packages that are not installed yet (apt-get, as root or
# through sudo). Runs `apt-get update` at most once per run.
need() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ -z "${SOCKFRAME_APT_UPDATED:-}" ]; then
        $sudo apt-get update -qq
        export SOCKFRAME_APT_UPDATED=1
    fi
    echo "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# section TITLE: a visible heading in the log, with the seconds the shell has run (the whole
# run's for a job's heading, the job's for a section within it).
section() { printf '\n==== %s ==== [%ss]\n' "$*" "$SECONDS"; }

# The packages every build needs.
need_base() { need cmake ninja-build g++ doctest-dev python3; }

# The warnings a user may compile with, as errors (jobs 15 and 67); strict_extra CXX adds the
# compiler's own (g++'s -Wuseless-cast).
strict_warnings=(-Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast -Werror)
strict_extra() { [ "$1" = g++ ] && echo -Wuseless-cast || true; }

# self_contained HEADER...: each public header (a path under include/, e.g. sockframe/tcp.hpp)
# compiles as the only include of a translation unit (g++, C++17, -fsyntax-only, two at a time).
# The test programs are compiled with a precompiled header that includes everything, so this is
# where a header that relies on another one being included before it is caught.
self_contained() {
    printf '%s\n' "$@" | xargs -P 2 -I '{}' sh -c \
        'printf "#include <%s>\n" "{}" | g++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -Iinclude -x c++ - ||
         { echo "not self-contained: {}" >&2; exit 1; }' || return 1
    echo "self-contained: $# headers, each compiled on its own"
}
