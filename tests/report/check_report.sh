#!/usr/bin/env bash
# Opens the HTML report in headless Chromium (Debian's chromium package; tests/run.sh installs it)
# and checks that every picture loaded and that the page wrote nothing to the console (no error,
# no warning, no log); saves a screenshot. The page's own loader script sets
# <body data-images-loaded="loaded/total"> once the window has loaded.
#
# usage: check_report.sh <report.html> <screenshot.png>
# Exits 77 (ctest: skipped) when no chromium is installed.
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: $0 <report.html> <screenshot.png>" >&2
    exit 2
fi
report=$(realpath -- "$1")
screenshot=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/chromium.sh"
find_browser
[[ -s $report ]] || { echo "FAIL: $report is missing or empty" >&2; exit 1; }

# First, that this check can fail: a page with a broken picture and a console error must be caught.
cat >"$work/broken.html" <<'HTML'
<!doctype html><html><body><img src="data:image/png;base64,AAAA"><script>
console.error("deliberate");
addEventListener('load', () => { const i = [...document.images];
  document.body.dataset.imagesLoaded = i.filter(x => x.complete && x.naturalWidth > 0).length + '/' + i.length; });
</script></body></html>
HTML
open_page "$work/broken.html" "$work/broken.dom" "$work/broken.log" || true
problems=$(verdict "$work/broken.dom" "$work/broken.log")
if [[ $problems != *"only 0/1 pictures loaded"* || $problems != *deliberate* ]]; then
    echo "FAIL: the check does not catch a broken page (it said: ${problems:-nothing})" >&2
    exit 1
fi

rc=0
open_page "$report" "$work/report.dom" "$work/report.log" || rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: chromium exited with $rc: $(tail -3 "$work/report.log")" >&2; exit 1; }
problems=$(verdict "$work/report.dom" "$work/report.log")
if [[ -n $problems ]]; then
    echo "FAIL: $report: $problems" >&2
    exit 1
fi
loaded=$(grep -o 'data-images-loaded="[0-9]*/[0-9]*"' "$work/report.dom" | head -1)
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --user-data-dir="$work/profile" \
    --hide-scrollbars --window-size=1280,4000 --virtual-time-budget=5000 --screenshot="$(realpath -m -- "$screenshot")" \
    "file://$report" >/dev/null 2>&1
[[ -s $screenshot ]] || { echo "FAIL: no screenshot written to $screenshot" >&2; exit 1; }
loaded=${loaded#data-images-loaded=\"}; echo "ok: $report: ${loaded%\"} pictures loaded, no console output; screenshot $screenshot"
