// Built with a custom frame limit: defines a function that takes a sockframe type.
#define SOCKFRAME_DEFAULT_MAX_FRAME 1048576u
#include <sockframe/sockframe.hpp>

void use_stream(sockframe::tcp_stream& s) { s.close(); }
