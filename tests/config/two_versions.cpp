// As if another sockframe version's headers came first in this translation unit: including
// this version's must stop the build (the expected outcome of this test).
#define SOCKFRAME_VERSION_MAJOR 0
#define SOCKFRAME_VERSION_MINOR 2
#define SOCKFRAME_VERSION_PATCH 0
#include <sockframe/sockframe.hpp>

int main() {}
