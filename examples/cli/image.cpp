// The one translation unit of the convis program that compiles stb (io/image.hpp): every other file
// of convis_cli and convis_zoo is built with CONVIS_IMAGE_SEPARATE and calls the functions defined here.
#define CONVIS_IMAGE_IMPLEMENTATION
#include <convis/io/image.hpp>
