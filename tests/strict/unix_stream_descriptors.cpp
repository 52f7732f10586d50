// Strict-warning unit for descriptors passed with frames over a framed Unix stream: built by CI
// against the single header, never run.
#include <sockframe/sockframe.hpp>

#include <cstdint>
#include <utility>

namespace sf = sockframe;

#if defined(SOCKFRAME_POSIX)
namespace {
template <typename Endpoint>
void use_stream_descriptors(Endpoint endpoint) {
    sf::framed f{std::move(endpoint), sf::length_prefix<std::uint16_t>{}};
    std::error_code ec;
    const int fds[2] = {0, 1};
    sf::send_with_descriptors(f, sf::const_buffer(fds, sizeof fds), fds, 2, sf::deadline{}, ec);
    sf::received_descriptors got(2);
    if (auto m = sf::receive_with_descriptors(f, sf::mutable_buffer(), got, sf::deadline{}, ec))
        (void)m->size();
    if (auto m = sf::receive_with_descriptors(f, sf::mutable_buffer(), got)) (void)m->size();
    sf::framed moved{std::move(f)};
    (void)moved.buffered();
}
}  // namespace

void strict_unix_stream_descriptors() {
    use_stream_descriptors(sf::unix_stream{});
    use_stream_descriptors(sf::unix_stream_nb{});
}
#endif
