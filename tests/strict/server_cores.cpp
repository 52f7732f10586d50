// Strict warnings (see strict_warnings.cpp) for the many-core server pieces and the coroutine
// flush: framed_server's round-robin listener and adopt(), a listener adopting a listening
// socket, framed::input_drained(), async_flush and async_framed::flush. Built, never run.
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <system_error>
#include <vector>

namespace sf = sockframe;

namespace {

using codec = sf::length_prefix<std::uint32_t>;
using server = sf::framed_server<sf::tcp_listener_nb, codec>;

[[maybe_unused]] void use_round_robin(sf::event_loop& first_loop, sf::event_loop& second_loop) {
    server first(first_loop), second(second_loop);
    first.listen(sf::tcp_listener_nb(sf::ipv4_address::loopback(0)), std::vector<server*>{&first, &second});
    std::error_code ec;
    sf::tcp_listener_nb adopted(sf::tcp_listener_nb::socket_type{}, ec);
    sf::tcp_listener plain(sf::tcp_listener::socket_type{});
    (void)plain.is_open();
    auto accepted = adopted.accept(ec);
    second.adopt(std::move(accepted.socket), accepted.from);
    sf::framed<sf::tcp_stream_nb, codec> conn{sf::tcp_stream_nb{}, codec{}};
    (void)conn.input_drained();
}

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L
[[maybe_unused]] sf::task<void> use_flush(sf::event_loop& loop, sf::tcp_stream_nb socket) {
    sf::async_framed conn{loop, std::move(socket), codec{}};
    std::error_code ec;
    co_await conn.flush(std::chrono::seconds(1));
    co_await conn.flush(sf::deadline{}, ec);
    co_await sf::async_flush(loop, conn.connection(), std::chrono::seconds(1));
    co_await sf::async_flush(loop, conn.connection(), sf::deadline{}, ec);
}
#endif

}  // namespace
