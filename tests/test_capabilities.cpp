// A socket offers the calls that fit its type, and no others: detected here with the detection
// idiom (each check names a call and the types that must have it, or must not).
#include <sockframe/socket.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

namespace sf = sockframe;

namespace {
template <typename S, typename = void>
struct has_read_exact : std::false_type {};
template <typename S>
struct has_read_exact<
    S, std::void_t<decltype(std::declval<S&>().read_exact(std::declval<sf::mutable_buffer>()))>>
    : std::true_type {};

template <typename S, typename = void>
struct has_read_some : std::false_type {};
template <typename S>
struct has_read_some<S,
                     std::void_t<decltype(std::declval<S&>().read_some(std::declval<sf::mutable_buffer>()))>>
    : std::true_type {};

template <typename S, typename = void>
struct has_write_all : std::false_type {};
template <typename S>
struct has_write_all<S, std::void_t<decltype(std::declval<S&>().write_all(std::declval<sf::const_buffer>()))>>
    : std::true_type {};

template <typename S, typename = void>
struct has_receive_from : std::false_type {};
template <typename S>
struct has_receive_from<
    S, std::void_t<decltype(std::declval<S&>().receive_from(std::declval<sf::mutable_buffer>()))>>
    : std::true_type {};

template <typename S, typename = void>
struct has_send_to : std::false_type {};
template <typename S>
struct has_send_to<S,
                   std::void_t<decltype(std::declval<S&>().send_to(
                       std::declval<sf::const_buffer>(), std::declval<const typename S::address_type&>()))>>
    : std::true_type {};

template <typename S, typename = void>
struct has_send : std::false_type {};
template <typename S>
struct has_send<S, std::void_t<decltype(std::declval<S&>().send(std::declval<sf::const_buffer>()))>>
    : std::true_type {};

template <typename S, typename = void>
struct has_receive_batch : std::false_type {};
template <typename S>
struct has_receive_batch<S, std::void_t<decltype(std::declval<S&>().receive_batch(
                                std::declval<sf::message_slot*>(), std::size_t{}))>> : std::true_type {};

/// The internal wait helper, called as the socket's own calls call it.
struct no_op {
    std::ptrdiff_t operator()(int, std::error_code&) const noexcept { return 0; }
};
template <typename S, typename = void>
struct has_wait_and : std::false_type {};
template <typename S>
struct has_wait_and<S, std::void_t<decltype(std::declval<S&>().wait_and(
                           short{}, std::optional<sf::deadline::clock::time_point>{},
                           std::declval<std::error_code&>(), no_op{}))>> : std::true_type {};

template <typename S, typename = void>
struct has_shutdown : std::false_type {};
template <typename S>
struct has_shutdown<S, std::void_t<decltype(std::declval<S&>().shutdown(sf::shutdown_type::both))>>
    : std::true_type {};
}  // namespace

// Streams: stream calls only.
static_assert(has_read_exact<sf::tcp_stream>::value);
static_assert(has_read_some<sf::tcp_stream>::value);
static_assert(has_write_all<sf::tcp_stream>::value);
static_assert(has_read_exact<sf::tcp_stream_nb>::value);
static_assert(has_read_exact<sf::any_stream>::value);
static_assert(!has_receive_from<sf::tcp_stream>::value);
static_assert(!has_send_to<sf::tcp_stream>::value);
static_assert(!has_send<sf::tcp_stream>::value);
static_assert(!has_receive_batch<sf::tcp_stream>::value);

// Datagrams: message calls and the per-message address, no stream calls.
static_assert(!has_read_exact<sf::udp_socket>::value);
static_assert(!has_read_some<sf::udp_socket>::value);
static_assert(!has_write_all<sf::udp_socket>::value);
static_assert(has_receive_from<sf::udp_socket>::value);
static_assert(has_send_to<sf::udp_socket>::value);
static_assert(has_send<sf::udp_socket>::value);
static_assert(has_receive_batch<sf::udp_socket>::value);
static_assert(has_receive_from<sf::ip_udp_socket>::value);

// Seqpacket: connected messages; no stream calls, no per-message address.
using seqpacket_socket = sf::basic_socket<sf::ipv4, sf::seqpacket>;
static_assert(has_send<seqpacket_socket>::value);
static_assert(!has_read_exact<seqpacket_socket>::value);
static_assert(!has_receive_from<seqpacket_socket>::value);

// What every socket has.
static_assert(has_shutdown<sf::tcp_stream>::value && has_shutdown<sf::udp_socket>::value);

// The internal wait helper is not part of any socket's interface.
static_assert(!has_wait_and<sf::tcp_stream>::value);
static_assert(!has_wait_and<sf::udp_socket>::value);
static_assert(!has_wait_and<sf::tcp_stream_nb>::value);

TEST_CASE("each socket type offers the calls that fit it, and only those (checked at compile time)") {
    CHECK(has_read_exact<sf::tcp_stream>::value);
    CHECK_FALSE(has_read_exact<sf::udp_socket>::value);
    CHECK_FALSE(has_receive_from<sf::tcp_stream>::value);
    CHECK(has_receive_from<sf::udp_socket>::value);
    CHECK_FALSE(has_wait_and<sf::tcp_stream>::value);
#if defined(SOCKFRAME_HAS_AF_UNIX) && defined(SOCKFRAME_POSIX)
    CHECK(has_send<sf::unix_seqpacket>::value);
    CHECK_FALSE(has_read_some<sf::unix_seqpacket>::value);
    CHECK(has_receive_from<sf::unix_datagram>::value);
    CHECK_FALSE(has_receive_from<sf::unix_stream>::value);
#endif
}
