#!/usr/bin/env bash
# Opens every page of a static site (convis atlas --out DIR) in headless Chromium (Debian's chromium
# package; tests/run.sh installs it) and checks, page by page, that every picture loaded, that the
# page wrote nothing to the console, and that every link and picture resolves to a file of the site
# — nothing may point outside the folder. Then that every page is reachable: linked from another.
#
# usage: check_site.sh <folder>      (its index.html is the entry page)
# Exits 77 (ctest: skipped) when no chromium is installed.
set -euo pipefail
if [[ $# -ne 1 ]]; then
    echo "usage: $0 <folder>" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/chromium.sh"
find_browser

# check_page <page> <targets file> <site folder>: prints what is wrong with the page; appends the
# pages it links to.
check_page() {
    local page=$1 site=$3 dir ref target resolved
    dir=$(dirname "$page")
    open_page "$page" "$work/page.dom" "$work/page.log" || { echo "chromium failed: $(tail -2 "$work/page.log")"; return; }
    verdict "$work/page.dom" "$work/page.log"
    while read -r ref; do
        case $ref in
            data:*) ;;
            *:* | //*) echo "points outside the site: $ref" ;;
            *)
                target=${ref%%#*}
                [[ -n $target ]] || continue
                resolved=$(realpath -m -- "$dir/$target")
                if [[ $resolved != "$site"/* ]]; then
                    echo "points outside the site: $ref"
                elif [[ -f $resolved ]]; then
                    [[ $target == *.html ]] && echo "$resolved" >>"$2"
                else
                    echo "broken link: $ref"
                fi
                ;;
        esac
    done < <(grep -o ' \(href\|src\)="[^"]*"' "$work/page.dom" | sed 's/^ [a-z]*="\(.*\)"$/\1/')
}

# check_site <folder>: prints "<page>: <problem>" lines.
check_site() {
    local site page problem
    site=$(realpath -- "$1")
    : >"$work/targets"
    [[ -s $site/index.html ]] || echo "$site: no index.html"
    for page in "$site"/*.html; do
        [[ -e $page ]] || continue
        while read -r problem; do
            [[ -n $problem ]] && echo "$(basename "$page"): $problem"
        done < <(check_page "$page" "$work/targets" "$site")
    done
    for page in "$site"/*.html; do
        [[ -e $page && $(basename "$page") != index.html ]] || continue
        grep -qxF "$page" "$work/targets" || echo "$(basename "$page"): no page links to it"
    done
}

# First, that this check can fail: a broken picture, a console error, a dead link, a link out of
# the site and an orphan page must all be caught.
mkdir -p "$work/broken"
cat >"$work/broken/index.html" <<'HTML'
<!doctype html><html><body><img src="missing.png"><a href="gone.html">gone</a><a href="https://example.org/">out</a>
<a href="../outside.html">up</a>
<script>console.error("deliberate");
addEventListener('load', () => { const i = [...document.images];
  document.body.dataset.imagesLoaded = i.filter(x => x.complete && x.naturalWidth > 0).length + '/' + i.length; });
</script></body></html>
HTML
cp "$work/broken/index.html" "$work/broken/orphan.html"
touch "$work/outside.html"  # exists, but is not part of the site
problems=$(check_site "$work/broken")
for expected in "only 0/1 pictures loaded" deliberate "broken link: gone.html" "broken link: missing.png" \
    "points outside the site: https://example.org/" \
    "points outside the site: ../outside.html" "orphan.html: no page links to it"; do
    if [[ $problems != *"$expected"* ]]; then
        echo "FAIL: the check does not catch '$expected' (it said: ${problems:-nothing})" >&2
        exit 1
    fi
done

problems=$(check_site "$1")
if [[ -n $problems ]]; then
    echo "FAIL: $1:" >&2
    echo "$problems" | head -20 >&2
    exit 1
fi
echo "ok: $1: $(ls "$1"/*.html | wc -l) pages; every picture loaded, every link resolves, no console output"
