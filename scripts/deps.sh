# Sourced by tests/run.sh and examples/demo.sh: installs the Debian packages convis builds with,
# when any is missing (with sudo when not root). Nothing else is downloaded.
CONVIS_DEBIAN_PACKAGES=(g++ cmake make libeigen3-dev nlohmann-json3-dev doctest-dev libbenchmark-dev
                        libcli11-dev libstb-dev zlib1g-dev dataset-fashion-mnist)
# Only the tests need these: Chromium opens the HTML report headless.
CONVIS_TEST_PACKAGES=(chromium)
# Only tests/sanitize.sh needs these: clang 19 (convis needs C++20 floating-point template
# arguments, which clang 14 lacks), its sanitizer and libFuzzer runtimes, and its OpenMP.
CONVIS_SANITIZE_PACKAGES=(clang-19 libclang-rt-19-dev libomp-19-dev)

# convis_install_deps [extra packages...]
convis_install_deps() {
    local missing=()
    for p in "${CONVIS_DEBIAN_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "convis: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
