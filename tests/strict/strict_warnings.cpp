// Compiled by CI with the strictest warnings a user might enable (-Wconversion -Wsign-conversion
// -Wshadow -Wold-style-cast -Wuseless-cast ... -Werror) against the single header: it
// instantiates the library's templates the way programs use them, so that warnings inside
// templates show up too. It is built, never run. The iostream adapters are not in the single
// header: the job compiles this file against include/ too, where they are.
#include <sockframe/sockframe.hpp>
#if __has_include(<sockframe/iostream.hpp>)
#include <sockframe/iostream.hpp>
#define STRICT_WITH_IOSTREAM 1
#endif

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace sf = sockframe;

namespace {

template <typename Endpoint, typename Codec>
void use_framed(Endpoint endpoint, Codec codec) {
    sf::framed conn{std::move(endpoint), std::move(codec)};
    std::error_code ec;
    const std::string payload = "payload";
    conn.send(payload);
    conn.send(payload, ec);
    conn.send({sf::const_buffer(payload), sf::const_buffer(payload)}, ec);
    const sf::const_buffer views[] = {sf::const_buffer(payload), sf::const_buffer(payload)};
    conn.send_batch(views, 2, ec);
    if (auto m = conn.receive(std::chrono::seconds(1), ec)) (void)m->size();
    if (auto m = conn.try_receive(ec)) (void)m->size();
    if (auto s = conn.template receive_copy<std::string>(sf::deadline{}, ec)) (void)s->size();
    conn.receive_batch([](sf::const_buffer b) { (void)b.size(); }, sf::deadline{}, ec);
    (void)conn.at_end();
    (void)conn.error_size();
    (void)conn.buffered();
    conn.reserve_receive(1 << 16);
    auto halves = conn.split();
    (void)halves.first.receive(ec);
    halves.second.send(payload, ec);
}

template <typename Endpoint, typename Codec>
void use_stream_framed(Endpoint endpoint, Codec codec) {
    sf::framed conn{std::move(endpoint), std::move(codec)};
    std::error_code ec;
    conn.queue(std::string("x"), ec);
    conn.flush(ec);
    (void)conn.pending();
    (void)conn.writable();
    conn.set_high_water_mark(1 << 20);
    conn.set_coalesce_limit(1 << 16);
    use_framed(std::move(conn.endpoint()), conn.codec());
}

template <typename Listener, typename Codec, typename Address>
void use_server(sf::event_loop& loop, Codec codec, const Address& at) {
    sf::server_options options;
    options.idle_timeout = std::chrono::seconds(30);
    options.frame_timeout = std::chrono::seconds(5);
    options.max_connections = 1000;
    sf::framed_server<Listener, Codec> server(loop, std::move(codec), options);
    using connection = typename sf::framed_server<Listener, Codec>::connection;
    server.on_open([](connection& c) { (void)c.peer(); });
    server.on_frame([](connection& c, sf::const_buffer payload) {
        std::error_code ec;
        if (!c.send(payload, ec)) c.abort(ec);
        (void)c.pending();
        (void)c.writable();
        (void)c.reading_paused();
        (void)c.io().buffered();
        if (c.id() > 100) c.close();
    });
    server.on_close([](connection& c, std::error_code why) { (void)c.is_open(), (void)why; });
    server.listen(Listener(at));
    server.connect(server.local_address(), std::chrono::seconds(1));
    server.for_each_connection([](connection& c) { c.send(sf::const_buffer("x")); });
    (void)server.connection_count();
    (void)server.accept_paused();
    server.stop_on_signals(std::chrono::seconds(1));
    server.stop(std::chrono::seconds(1), [] {});
}

[[maybe_unused]] void instantiate() {
    std::error_code ec;
    use_stream_framed(sf::tcp_stream{}, sf::length_prefix<std::uint32_t>{});
    use_stream_framed(sf::tcp_stream{}, sf::length_prefix<std::uint16_t, sf::little_endian>{});
    use_stream_framed(sf::tcp_stream_nb{}, sf::varint_prefix{});
    use_stream_framed(sf::tcp_stream{}, sf::line{});
    use_stream_framed(sf::tcp_stream{}, sf::delimiter{"\r\n"});
    use_stream_framed(sf::tcp_stream{}, sf::fixed_size{8});
    use_stream_framed(sf::tcp_stream{}, sf::make_netstring());
    use_stream_framed(sf::tcp_stream{}, sf::checked<sf::length_prefix<>>{});
    use_stream_framed(sf::tcp_stream{}, sf::checked<sf::line>{});
    use_stream_framed(sf::tcp_stream{}, sf::parse_codec_spec("len:4"));
    use_stream_framed(sf::ip_tcp_stream{}, sf::length_prefix<>{});
    use_framed(sf::udp_socket{}, sf::length_prefix<std::uint16_t>{});
    use_framed(sf::ip_udp_socket{}, sf::length_prefix<std::uint16_t>{});
#if defined(SOCKFRAME_POSIX)
    use_stream_framed(sf::unix_stream{}, sf::length_prefix<>{});
    use_framed(sf::unix_datagram{}, sf::length_prefix<>{});
    use_framed(sf::unix_seqpacket{}, sf::length_prefix<>{});
#endif

    auto listener = sf::tcp_listener(sf::ipv4_address::loopback(0));
    auto accepted = listener.accept(std::chrono::seconds(1), ec);
    (void)accepted;
    auto stream = sf::tcp_stream::connect("localhost", "7000", std::chrono::seconds(1), ec);
    std::vector<char> buffer(64);
    (void)stream.read_some(sf::mutable_buffer(buffer), ec);
    (void)stream.write_all(sf::const_buffer("abc"), ec);
    (void)stream.local_address(ec);
    stream.set_timeout(std::chrono::milliseconds(5));
    sf::udp_socket udp(sf::ipv4_address::loopback(0));
    (void)udp.send_to(sf::const_buffer("x"), udp.local_address(), ec);
    (void)udp.receive_from(sf::mutable_buffer(buffer), ec);
    sf::poller poller;
    std::vector<sf::poll_event> events;
    poller.add(udp, sf::interest::read, 1, ec);
    poller.wait(events, sf::deadline(std::chrono::milliseconds(1)), ec);
#if defined(STRICT_WITH_IOSTREAM)
    sf::ip_tcp_iostream io("localhost", "7000");
    io << "x" << std::flush;
#endif
    (void)sf::resolve<sf::ipv4>("localhost", "80", ec);
    (void)sf::ipv6_address::parse("::1", 80);

    sf::event_loop loop;
    loop.post([] {});
    auto once = loop.after(std::chrono::milliseconds(1), [] {});
    auto tick = loop.every(std::chrono::milliseconds(1), [] {});
    auto watch = loop.watch(udp, sf::interest::read, [](sf::io_event e) { (void)e.readable; });
    watch.modify(sf::interest::read | sf::interest::write, ec);
    once.cancel();
    tick.cancel();
    watch.cancel();
    loop.stop_on_signals(ec);
    (void)loop.run_for(std::chrono::milliseconds(1), ec);

    use_server<sf::tcp_listener_nb>(loop, sf::length_prefix<std::uint32_t>{}, sf::ipv4_address::loopback(0));
    use_server<sf::any_listener_nb>(loop, sf::parse_codec_spec("len:4"),
                                    sf::any_address(sf::ipv4_address::loopback(0)));
#if defined(SOCKFRAME_POSIX)
    use_server<sf::unix_listener_nb>(loop, sf::line{}, sf::local_address("/tmp/strict.sock"));
#endif
}

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L
// coro.hpp: every awaitable, in its throwing, no-throw and cancellable forms.
sf::task<std::size_t> use_coro(sf::event_loop& loop) {
    std::error_code ec;
    sf::cancel_source cancel;
    sf::tcp_listener_nb listener{sf::ipv4_address::loopback(0)};
    auto [socket, from] = co_await sf::async_accept(loop, listener, std::chrono::seconds(1));
    (void)co_await sf::async_accept(loop, listener, std::chrono::seconds(1), cancel.token(), ec);
    auto client = co_await sf::async_connect(loop, from, sf::deadline::never(), ec);
#if defined(SOCKFRAME_POSIX)
    (void)co_await sf::async_connect<sf::unix_stream_nb>(loop, sf::local_address("x"), {}, cancel.token());
#endif
    sf::async_framed conn{loop, std::move(socket), sf::length_prefix<std::uint32_t>{}};
    std::size_t total = 0;
    while (auto msg = co_await conn.receive()) {
        total += msg->size();
        co_await conn.send(*msg, std::chrono::seconds(1), cancel.token(), ec);
    }
    sf::framed plain{std::move(client), sf::line{}};
    if (auto m = co_await sf::async_receive(loop, plain, std::chrono::seconds(1), ec)) total += m->size();
    co_await sf::async_send(loop, plain, sf::const_buffer(std::string("x")), {}, cancel.token(), ec);
    co_await sf::async_sleep(loop, std::chrono::milliseconds(1), cancel.token(), ec);
    cancel.cancel();
    co_return total;
}

[[maybe_unused]] void instantiate_coro() {
    sf::event_loop loop;
    sf::co_spawn(loop, use_coro(loop), [](std::exception_ptr e) { (void)e; });
    (void)sf::run_task(loop, use_coro(loop));
}
#endif

}  // namespace

int main() { return 0; }
