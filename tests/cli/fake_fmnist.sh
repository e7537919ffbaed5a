# Sourced by the CLI checks: make_idx <file> <count> <images|labels> writes a gzip'd IDX file of
# random 28×28 pictures or of labels 0..9 in turn; make_fake_fmnist <dir> writes a Fashion-MNIST
# look-alike there (96 training, 40 test pictures) and points CONVIS_FASHION_MNIST at it, so no
# data package is needed.
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
make_idx() {  # make_idx <file> <count> <images|labels>
    if [[ $3 == images ]]; then
        { printf '\x00\x00\x08\x03'; printf "$(be32 "$2")"; printf "$(be32 28)$(be32 28)"; head -c $(($2 * 784)) /dev/urandom; } |
            gzip >"$1"
    else
        { printf '\x00\x00\x08\x01'; printf "$(be32 "$2")"; for ((i = 0; i < $2; i++)); do printf "\\x0$((i % 10))"; done; } |
            gzip >"$1"
    fi
}
make_fake_fmnist() {  # make_fake_fmnist <dir>
    mkdir -p "$1"
    make_idx "$1/train-images-idx3-ubyte.gz" 96 images
    make_idx "$1/train-labels-idx1-ubyte.gz" 96 labels
    make_idx "$1/t10k-images-idx3-ubyte.gz" 40 images
    make_idx "$1/t10k-labels-idx1-ubyte.gz" 40 labels
    export CONVIS_FASHION_MNIST=$PWD/$1
}
