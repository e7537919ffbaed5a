# Sourced by the CLI checks: make_idx <file> <count> <images|labels> writes a gzip'd IDX file of
# random 28×28 pictures or of labels 0..9 in turn — a Fashion-MNIST look-alike that needs no
# data package.
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
