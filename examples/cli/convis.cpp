// convis — the command-line program over the zoo's networks (zoo.hpp): convis::cli::run.
#include "zoo.hpp"

int main(int argc, char** argv) { return convis::cli::run(argc, argv, convis_cli::zoo()); }
