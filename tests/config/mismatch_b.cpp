// Built with the defaults: calls mismatch_a.cpp's function. The two disagree on what a
// tcp_stream is, and the program must not link (the expected outcome of this test).
#include <sockframe/sockframe.hpp>

void use_stream(sockframe::tcp_stream& s);

int main() {
    sockframe::tcp_stream s;
    use_stream(s);
}
