# Sourced by check_report.sh and check_site.sh: headless Chromium (Debian's chromium package) on
# one page at a time. Needs $work (a scratch folder) set; sets HOME there for Chromium's profile.
#
# find_browser: sets $browser, or exits 77 (ctest: skipped) when none is installed.
find_browser() {
    browser=$(command -v chromium || command -v chromium-browser || true)
    if [[ -z $browser ]]; then
        echo "SKIP: no chromium installed (apt-get install chromium)"
        exit 77
    fi
    export HOME=$work  # chromium writes its profile under HOME
}

# open_page <page> <dom file> <log file>: loads the page, lets it run 5 s of virtual time, dumps the DOM.
open_page() {
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --user-data-dir="$work/profile" \
        --enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom "file://$1" >"$2" 2>"$3"
}

# verdict <dom> <log>: prints what is wrong, nothing when all is well. The page's own loader script
# (io/html.hpp) sets <body data-images-loaded="loaded/total"> once the window has loaded.
verdict() {
    local loaded
    loaded=$(grep -o 'data-images-loaded="[0-9]*/[0-9]*"' "$1" | head -1 | sed 's/.*="\(.*\)"/\1/')
    if [[ -z $loaded ]]; then
        echo "the page's loader script did not run (no data-images-loaded on <body>)"
    elif [[ ${loaded%/*} != "${loaded#*/}" || ${loaded#*/} == 0 ]]; then
        echo "only $loaded pictures loaded"
    fi
    if grep -q ':CONSOLE' "$2"; then
        echo "console output: $(grep ':CONSOLE' "$2" | head -3 | tr '\n' ' ')"
    fi
}
