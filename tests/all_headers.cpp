// A second translation unit that includes every header: a definition missing `inline` in any
// header then fails to link with the test files, which include them too.
#include <sockframe/sockframe.hpp>

namespace {
[[maybe_unused]] void instantiate_common_types() {
    namespace sf = sockframe;
    sf::tcp_stream stream;
    sf::udp_socket udp;
    sf::tcp_listener listener;
    (void)stream.is_open();
    (void)udp.is_open();
    (void)listener.is_open();
}
}  // namespace
