// sockframe_bench: framed messaging over loopback, sockframe against a hand-written raw-syscall
// loop and standalone Asio, all measured in the same process run.
//
//   sockframe_bench [--quick] [--json] [--repeats N] [--seconds S] [--only WORKLOAD]
//
// Workloads (see the README, "Performance"):
//   stream             one-way TCP, 4-byte big-endian length prefix, payloads 16/128/1024/65536
//                      bytes; the receiver checksums every payload byte
//   pingpong           one 64-byte frame echoed; client and server pinned to different CPUs
//   pingpong_same_cpu  the same with both pinned to one CPU
//   udp                64-byte datagrams, one system call per datagram
//   udp_batched        64- and 1200-byte datagrams, sendmmsg/recvmmsg (64 per call); sockframe is
//                      framed (length_prefix<uint16_t>), sockframe_socket the socket's own batches
//   udp_gso            64- and 1200-byte datagrams sent with UDP GSO, received with UDP GRO;
//                      against raw GSO/GRO loops, sendmmsg and send() per datagram
//   sendfile           one 64 MiB frame per message: send_file_frame (sendfile) vs read + send
//
// Implementations (stream; ping-pong has sockframe, sockframe_checked, sockframe_any, raw and asio;
// udp sockframe, raw and asio):
//   sockframe          framed used as tuned: reserve_receive(256 KiB), queue + flush per 64 KiB,
//                      send_batch of 16 for 64 KiB payloads, receive_batch
//   sockframe_default  framed as the README teaches, default settings: queue() per frame and one
//                      flush() at the end, receive_batch
//   sockframe_checked  the sockframe row with checked<length_prefix<>> (CRC-32C trailer)
//   sockframe_any      the sockframe row with any_codec holding length_prefix<>
//   raw                recv into 256 KiB, frames copied into 64 KiB sends (16 gathered if large)
//   raw_big            recv into 1 MiB, frames copied into 256 KiB sends (gathered if large)
//   asio               async_read header + body, asio::write per message
// The table gives every row's ratio to raw and to raw_big, each from the same repeats.
//
// Each (workload, size) runs every implementation in turn, `repeats` times (interleaved, the
// order reversed every other repeat), and reports the median; ratios to raw are the medians of
// the per-repeat ratios. allocs_per_msg counts global operator new calls during the measured window
// only (both threads), divided by the messages of that window.
//
// Linux only (thread pinning, sendmmsg/recvmmsg in the raw baseline).

#include <sockframe/sockframe.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <ctime>
#include <unistd.h>

#if SOCKFRAME_BENCH_HAVE_ASIO
#include <asio.hpp>
#endif

// ---- counting global operator new ------------------------------------------------------------

static std::atomic<std::uint64_t> g_allocations{0};

static void* counted_alloc(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace sf = sockframe;
using clock_type = std::chrono::steady_clock;

// ---- configuration and results ----------------------------------------------------------------

struct config {
    double warmup = 0.2;    // seconds before the measured window
    double duration = 0.5;  // seconds of the measured window
    int repeats = 9;
    bool json = false;
    bool mixed = false;  // --mixed: also each sockframe side against raw's other side, and receive()
    std::vector<std::string> only;
    std::vector<std::size_t> sizes;  // --size: stream payload sizes to run (default all four)
    std::vector<std::string> impls;  // --impl: implementations to run (default all; ratios need raw)
    int cpu_a = 0, cpu_b = 1;
};

struct sample {
    double msgs_per_s = 0, mb_per_s = 0, p50_us = -1, p99_us = -1, allocs_per_msg = 0, loss = -1;
};

struct result {
    std::string workload;
    std::size_t size = 0;
    std::string impl;
    sample s;
    bool has_mb = false, has_latency = false;
    double ratio = -1, p99_ratio = -1;            // medians of the per-repeat ratios to raw
    double ratio_big = -1;                        // median of the per-repeat msgs/s ratios to raw_big
    double ratio_big_lo = -1, ratio_big_hi = -1;  // their lower and upper quartiles
    double ratio_sf = -1;  // median of the per-repeat msgs/s ratios to the sockframe row
};

// ---- helpers ----------------------------------------------------------------------------------

void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(2);
}

/// The sum of every payload byte (8 at a time): the receiver's "touch every byte". Never inlined:
/// every implementation runs the same machine code (inlined, the compiler vectorised it in some
/// receivers and not in others, which moved the 64 KiB ratios by a third).
__attribute__((noinline)) std::uint64_t checksum(const std::byte* p, std::size_t n) noexcept {
    std::uint64_t sum = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        sum += w;
    }
    for (; i < n; ++i) sum += std::to_integer<std::uint64_t>(p[i]);
    return sum;
}

inline void store_be32(std::byte* p, std::uint32_t v) noexcept {
    p[0] = std::byte(v >> 24);
    p[1] = std::byte(v >> 16);
    p[2] = std::byte(v >> 8);
    p[3] = std::byte(v);
}
inline std::uint32_t load_be32(const std::byte* p) noexcept {
    return (std::to_integer<std::uint32_t>(p[0]) << 24) | (std::to_integer<std::uint32_t>(p[1]) << 16) |
           (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}

std::vector<std::byte> make_payload(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte((i * 131 + 7) % 251);
    return v;
}

/// A connected TCP pair over loopback: {client (sender), server (receiver)}, as raw descriptors.
std::pair<int, int> tcp_pair(bool no_delay) {
    sf::tcp_listener listener(sf::ipv4_address::loopback(0));
    auto client = sf::tcp_stream::connect(listener.local_address(), std::chrono::seconds(5));
    auto server = std::move(listener.accept(std::chrono::seconds(5)).socket);
    if (no_delay) {
        client.set(sf::no_delay{true});
        server.set(sf::no_delay{true});
    }
    return {client.release(), server.release()};
}

/// A bound UDP receiver and a sender connected to it, as raw descriptors: {sender, receiver}.
std::pair<int, int> udp_pair() {
    sf::udp_socket receiver(sf::ipv4_address::loopback(0));
    int big = 4 << 20;
    receiver.set_option(SOL_SOCKET, SO_RCVBUF, big);
    ::timeval tv{1, 0};  // a safety net only: the sender ends the run with empty datagrams
    ::setsockopt(receiver.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto sender = sf::udp_socket::open();
    sender.connect_to(receiver.local_address());
    return {sender.release(), receiver.release()};
}

void send_all_raw(int fd, const std::byte* p, std::size_t n) {
    while (n > 0) {
        ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            die("send");
        }
        p += k;
        n -= static_cast<std::size_t>(k);
    }
}

/// The measured window, kept by the measuring thread: warm-up, then `duration` seconds, then
/// `stop` is raised for the other side. check() is called every few messages.
class meter {
public:
    meter(const config& c, std::atomic<bool>& stop)
        : stop_(stop),
          begin_at_(clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                            std::chrono::duration<double>(c.warmup))),
          end_at_(begin_at_ + std::chrono::duration_cast<clock_type::duration>(
                                  std::chrono::duration<double>(c.duration))) {}

    std::uint64_t msgs = 0, bytes = 0;

    bool measuring() const noexcept { return phase_ == 1; }
    bool done() const noexcept { return phase_ == 2; }
    /// Moves through the phases by the clock; returns true once the window has closed.
    bool check() noexcept { return check(clock_type::now()); }
    bool check(clock_type::time_point now) noexcept {
        if (phase_ == 0 && now >= begin_at_) {
            phase_ = 1;
            m0_ = msgs;
            b0_ = bytes;
            a0_ = g_allocations.load(std::memory_order_relaxed);
            t0_ = now;
        } else if (phase_ == 1 && now >= end_at_) {
            phase_ = 2;
            dm_ = msgs - m0_;
            db_ = bytes - b0_;
            da_ = g_allocations.load(std::memory_order_relaxed) - a0_;
            seconds_ = std::chrono::duration<double>(now - t0_).count();
            stop_.store(true, std::memory_order_relaxed);
        }
        return phase_ == 2;
    }
    sample result() const {
        sample s;
        s.msgs_per_s = seconds_ > 0 ? static_cast<double>(dm_) / seconds_ : 0;
        s.mb_per_s = seconds_ > 0 ? static_cast<double>(db_) / seconds_ / 1e6 : 0;
        s.allocs_per_msg = dm_ > 0 ? static_cast<double>(da_) / static_cast<double>(dm_) : 0;
        return s;
    }
    std::uint64_t window_messages() const noexcept { return dm_; }

private:
    std::atomic<bool>& stop_;
    clock_type::time_point begin_at_, end_at_, t0_;
    int phase_ = 0;
    std::uint64_t m0_ = 0, b0_ = 0, a0_ = 0, dm_ = 0, db_ = 0, da_ = 0;
    double seconds_ = 0;
};

/// Frames per 64 KiB of stream: how often a sender checks `stop` and a receiver the clock.
std::size_t frames_per_chunk(std::size_t size) {
    std::size_t n = 65536 / (size + 4);
    return n == 0 ? 1 : n;
}

// ---- stream -----------------------------------------------------------------------------------

struct stream_run {
    const config& cfg;
    std::size_t size;
    std::atomic<bool> stop{false};
    std::vector<std::byte> payload;
    meter m;
    std::uint64_t sum = 0;
    std::size_t check_every;
    explicit stream_run(const config& c, std::size_t s)
        : cfg(c), size(s), payload(make_payload(s)), m(c, stop), check_every(frames_per_chunk(s)) {}

    void got(const std::byte* p, std::size_t n) {
        if (n != size) {
            std::fprintf(stderr, "stream: frame of %zu bytes, expected %zu\n", n, size);
            std::exit(3);
        }
        sum += checksum(p, n);
        ++m.msgs;
        m.bytes += n;
    }
};

constexpr std::size_t raw_receive_buffer = 256 * 1024;
constexpr std::size_t raw_send_batch = 64 * 1024;
constexpr std::size_t raw_big_receive_buffer = 1024 * 1024;
constexpr std::size_t raw_big_send_batch = 256 * 1024;

// raw: the sender copies frames into a 64 KiB buffer and sends it whole (small frames), or
// gathers header and payload of 16 frames in one writev (large frames); the receiver recv()s into
// a 256 KiB buffer and decodes every complete frame before the next recv.
// raw_big: the same loops with a 1 MiB receive buffer and 256 KiB send batches: small frames are
// copied into a 256 KiB buffer sent whole, large ones gathered as many whole frames as fit in
// 256 KiB (at least one) per sendmsg.
//
// `Batch` is the send buffer of small frames; `LargePerCall` the frames gathered per sendmsg
// (0: as many as fit in `Batch`, at least one). Constants, so each loop compiles as if written
// by hand.
template <std::size_t Batch, int LargePerCall>
void raw_stream_send(stream_run& r, int fd) {
    const std::size_t frame = r.size + 4;
    if (frame <= 8192) {
        const std::size_t per_batch = Batch / frame;
        std::vector<std::byte> out(Batch);
        while (!r.stop.load(std::memory_order_relaxed)) {
            std::size_t used = 0;
            for (std::size_t i = 0; i < per_batch; ++i) {
                store_be32(out.data() + used, static_cast<std::uint32_t>(r.size));
                std::memcpy(out.data() + used + 4, r.payload.data(), r.size);
                used += frame;
            }
            send_all_raw(fd, out.data(), used);
        }
    } else {
        constexpr int most_per_call = 32;
        static_assert(LargePerCall <= most_per_call, "too many frames per sendmsg");
        const int fit = static_cast<int>(std::min<std::size_t>(most_per_call, Batch / frame));
        const int per_call = LargePerCall > 0 ? LargePerCall : std::max(1, fit);
        std::byte header[4];
        store_be32(header, static_cast<std::uint32_t>(r.size));
        while (!r.stop.load(std::memory_order_relaxed)) {
            ::iovec v[2 * most_per_call];
            for (int i = 0; i < per_call; ++i) {
                v[2 * i] = {header, 4};
                v[2 * i + 1] = {r.payload.data(), r.size};
            }
            ::iovec* first = v;
            int count = 2 * per_call;
            while (count > 0) {
                ::msghdr msg{};
                msg.msg_iov = first;
                msg.msg_iovlen = static_cast<std::size_t>(count);
                ssize_t k = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
                if (k < 0) {
                    if (errno == EINTR) continue;
                    die("sendmsg");
                }
                auto left = static_cast<std::size_t>(k);
                while (count > 0 && left >= first->iov_len) {
                    left -= first->iov_len;
                    ++first;
                    --count;
                }
                if (count > 0) {
                    first->iov_base = static_cast<char*>(first->iov_base) + left;
                    first->iov_len -= left;
                }
            }
        }
    }
    ::shutdown(fd, SHUT_WR);
}

template <std::size_t Capacity>
void raw_stream_receive(stream_run& r, int fd) {
    const std::size_t capacity = Capacity;
    std::vector<std::byte> in(capacity);
    std::size_t begin = 0, end = 0;
    for (;;) {
        ssize_t k = ::recv(fd, in.data() + end, capacity - end, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            die("recv");
        }
        if (k == 0) break;
        end += static_cast<std::size_t>(k);
        for (;;) {
            if (end - begin < 4) break;
            std::uint32_t len = load_be32(in.data() + begin);
            if (len > capacity - 4) die("raw: frame too large");
            if (end - begin < 4 + len) break;
            r.got(in.data() + begin + 4, len);
            begin += 4 + len;
        }
        if (!r.m.done()) r.m.check();
        std::memmove(in.data(), in.data() + begin, end - begin);
        end -= begin;
        begin = 0;
    }
}

void raw_stream_sender(stream_run& r, int fd) { raw_stream_send<raw_send_batch, 16>(r, fd); }
void raw_stream_receiver(stream_run& r, int fd) { raw_stream_receive<raw_receive_buffer>(r, fd); }
void raw_big_stream_sender(stream_run& r, int fd) { raw_stream_send<raw_big_send_batch, 0>(r, fd); }
void raw_big_stream_receiver(stream_run& r, int fd) { raw_stream_receive<raw_big_receive_buffer>(r, fd); }

// sockframe: queue() every small frame (coalesced into one buffer), flush() after each 64 KiB's
// worth; large payloads go 16 at a time through send_batch() (gathered, never copied); the
// receiver is receive_batch() in a loop, after reserve_receive() of the raw loop's buffer size.
// sockframe_checked and sockframe_any are the same code with checked<length_prefix<>> (a CRC-32C
// trailer in every frame) and with any_codec holding length_prefix<>: what a composed and a
// type-erased codec cost (both ends are sockframe; checked's frames are 4 bytes longer on the wire).
using lp_codec = sf::length_prefix<std::uint32_t>;
using checked_codec = sf::checked<sf::length_prefix<>>;
using framed_tcp = sf::framed<sf::tcp_stream, lp_codec>;

template <typename Codec>
Codec make_codec() {
    return Codec{};
}
template <>
sf::any_codec make_codec<sf::any_codec>() {
    return sf::any_codec(sf::length_prefix<>{});
}

template <typename Codec>
void sockframe_stream_sender(stream_run& r, int fd) {
    sf::framed<sf::tcp_stream, Codec> conn{sf::tcp_stream(fd), make_codec<Codec>()};
    const sf::const_buffer payload(r.payload);
    if (r.size + 4 <= 8192) {
        while (!r.stop.load(std::memory_order_relaxed)) {
            for (std::size_t i = 0; i < r.check_every; ++i) conn.queue(payload);
            conn.flush();
        }
    } else {  // large payloads: 16 frames per gathered write, as the raw loop does, never copied
        sf::const_buffer batch[16];
        for (auto& b : batch) b = payload;
        while (!r.stop.load(std::memory_order_relaxed)) conn.send_batch(batch, 16);
    }
    conn.endpoint().shutdown(sf::shutdown_type::send);
    (void)conn.endpoint().release();
}

template <typename Codec>
void sockframe_stream_receiver(stream_run& r, int fd) {
    sf::framed<sf::tcp_stream, Codec> conn{sf::tcp_stream(fd), make_codec<Codec>()};
    conn.reserve_receive(raw_receive_buffer);  // the same buffer as the raw loop's
    // every frame one read brought, decoded in one loop; the clock is checked once per batch
    while (conn.receive_batch([&r](sf::const_buffer frame) { r.got(frame.data(), frame.size()); })) {
        if (!r.m.done()) r.m.check();
    }
    (void)conn.endpoint().release();
}

// sockframe_default: written the way the README teaches, with default settings (no
// reserve_receive, set_coalesce_limit or send_batch): the sender queue()s every frame and
// flush()es once at the end, so frames leave whenever the queue reaches its default coalescing
// limit; the receiver is receive_batch() in a loop with the default receive buffer. Measured
// against raw_big, the speed a program gets without tuning.
void sockframe_default_stream_sender(stream_run& r, int fd) {
    framed_tcp conn{sf::tcp_stream(fd)};
    const sf::const_buffer payload(r.payload);
    while (!r.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < r.check_every; ++i) conn.queue(payload);
    }
    conn.flush();
    conn.endpoint().shutdown(sf::shutdown_type::send);
    (void)conn.endpoint().release();
}

void sockframe_default_stream_receiver(stream_run& r, int fd) {
    framed_tcp conn{sf::tcp_stream(fd)};
    while (conn.receive_batch([&r](sf::const_buffer frame) { r.got(frame.data(), frame.size()); })) {
        if (!r.m.done()) r.m.check();
    }
    (void)conn.endpoint().release();
}

// The same receiver one receive() call per frame (--mixed): what the per-frame API costs.
void sockframe_stream_receiver_per_frame(stream_run& r, int fd) {
    framed_tcp conn{sf::tcp_stream(fd)};
    conn.reserve_receive(raw_receive_buffer);
    std::size_t n = 0;
    while (auto frame = conn.receive()) {
        r.got(frame->data(), frame->size());
        if (++n == r.check_every) {
            n = 0;
            if (!r.m.done()) r.m.check();
        }
    }
    (void)conn.endpoint().release();
}

#if SOCKFRAME_BENCH_HAVE_ASIO
// asio: asio::write of {header, payload} per message; the receiver async_read()s the 4-byte
// header, then the body into a reused buffer, then the next header.
void asio_stream_sender(stream_run& r, int fd) {
    asio::io_context ctx;
    asio::ip::tcp::socket s(ctx);
    s.assign(asio::ip::tcp::v4(), fd);
    std::byte header[4];
    store_be32(header, static_cast<std::uint32_t>(r.size));
    const std::array<asio::const_buffer, 2> frame{asio::buffer(header), asio::buffer(r.payload)};
    while (!r.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < r.check_every; ++i) asio::write(s, frame);
    }
    s.shutdown(asio::ip::tcp::socket::shutdown_send);
    (void)s.release();
}

struct asio_stream_reader {
    stream_run& r;
    asio::ip::tcp::socket s;
    std::byte header[4];
    std::vector<std::byte> body;
    std::size_t n = 0;
    asio_stream_reader(stream_run& run, asio::io_context& ctx, int fd) : r(run), s(ctx), body(65536 + 16) {
        s.assign(asio::ip::tcp::v4(), fd);
    }
    void read_header() {
        asio::async_read(s, asio::buffer(header), [this](const asio::error_code& ec, std::size_t) {
            if (ec) return;
            std::uint32_t len = load_be32(header);
            if (len > body.size()) die("asio: frame too large");
            asio::async_read(s, asio::buffer(body.data(), len),
                             [this](const asio::error_code& e, std::size_t got) {
                                 if (e) return;
                                 r.got(body.data(), got);
                                 if (++n == r.check_every) {
                                     n = 0;
                                     if (!r.m.done()) r.m.check();
                                 }
                                 read_header();
                             });
        });
    }
};

void asio_stream_receiver(stream_run& r, int fd) {
    asio::io_context ctx;
    asio_stream_reader reader(r, ctx, fd);
    reader.read_header();
    ctx.run();
    (void)reader.s.release();
}
#endif

using stream_fn = void (*)(stream_run&, int);

sample run_stream(const config& cfg, std::size_t size, stream_fn sender, stream_fn receiver) {
    auto [client, server] = tcp_pair(false);
    stream_run r(cfg, size);
    std::thread rx([&, fd = server] {
        pin_to(cfg.cpu_b);
        receiver(r, fd);
    });
    std::thread tx([&, fd = client] {
        pin_to(cfg.cpu_a);
        sender(r, fd);
    });
    tx.join();
    rx.join();
    ::close(client);
    ::close(server);
    if (!r.m.done()) {
        std::fprintf(stderr, "stream: the run ended before its window closed\n");
        std::exit(3);
    }
    return r.m.result();
}

// ---- pingpong ---------------------------------------------------------------------------------

constexpr std::size_t pingpong_size = 64;

struct pingpong_run {
    const config& cfg;
    std::atomic<bool> stop{false};
    std::vector<std::byte> payload = make_payload(pingpong_size);
    meter m;
    std::vector<double> latencies;  // microseconds, measured window only
    explicit pingpong_run(const config& c) : cfg(c), m(c, stop) {
        latencies.reserve(static_cast<std::size_t>(c.duration * 2e6) + 1024);
    }
    /// Records one round trip that started at `t0`; returns true when the client should stop.
    bool round_trip(clock_type::time_point t0, std::size_t got) {
        if (got != pingpong_size) {
            std::fprintf(stderr, "pingpong: frame of %zu bytes\n", got);
            std::exit(3);
        }
        auto t1 = clock_type::now();
        ++m.msgs;
        m.bytes += got;
        if (m.measuring() && latencies.size() < latencies.capacity())
            latencies.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        return m.check(t1);
    }
};

// raw: send() of header and payload from one buffer; recv() into a big buffer, decoding every
// complete frame; the server answers all frames one recv brought with one send.
void raw_pingpong_client(pingpong_run& r, int fd) {
    std::byte out[4 + pingpong_size];
    std::vector<std::byte> in(65536);
    std::size_t begin = 0, end = 0;
    for (;;) {
        auto t0 = clock_type::now();
        store_be32(out, pingpong_size);
        std::memcpy(out + 4, r.payload.data(), pingpong_size);
        send_all_raw(fd, out, sizeof out);
        std::size_t len = 0;
        for (;;) {
            if (end - begin >= 4) {
                len = load_be32(in.data() + begin);
                if (end - begin >= 4 + len) break;
            }
            if (begin > 0) {
                std::memmove(in.data(), in.data() + begin, end - begin);
                end -= begin;
                begin = 0;
            }
            ssize_t k = ::recv(fd, in.data() + end, in.size() - end, 0);
            if (k <= 0) die("recv");
            end += static_cast<std::size_t>(k);
        }
        const std::byte* frame = in.data() + begin + 4;
        (void)checksum(frame, len);
        begin += 4 + len;
        if (begin == end) begin = end = 0;
        if (r.round_trip(t0, len)) break;
    }
    ::shutdown(fd, SHUT_WR);
}

void raw_pingpong_server(pingpong_run&, int fd) {
    std::vector<std::byte> in(65536), out(65536);
    std::size_t begin = 0, end = 0;
    for (;;) {
        ssize_t k = ::recv(fd, in.data() + end, in.size() - end, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        end += static_cast<std::size_t>(k);
        std::size_t used = 0;
        while (end - begin >= 4) {
            std::uint32_t len = load_be32(in.data() + begin);
            if (end - begin < 4 + len) break;
            std::memcpy(out.data() + used, in.data() + begin, 4 + len);
            used += 4 + len;
            begin += 4 + len;
        }
        if (used > 0) send_all_raw(fd, out.data(), used);
        std::memmove(in.data(), in.data() + begin, end - begin);
        end -= begin;
        begin = 0;
    }
}

// sockframe: send() + receive(); the server answers each frame with send(). sockframe_checked
// and sockframe_any: the same with checked<length_prefix<>> and with any_codec (see stream).
template <typename Codec>
void sockframe_pingpong_client(pingpong_run& r, int fd) {
    sf::framed<sf::tcp_stream, Codec> conn{sf::tcp_stream(fd), make_codec<Codec>()};
    const sf::const_buffer payload(r.payload);
    for (;;) {
        auto t0 = clock_type::now();
        conn.send(payload);
        auto frame = conn.receive();
        if (!frame) die("sockframe pingpong: end of stream");
        (void)checksum(frame->data(), frame->size());
        if (r.round_trip(t0, frame->size())) break;
    }
    conn.endpoint().shutdown(sf::shutdown_type::send);
    (void)conn.endpoint().release();
}

template <typename Codec>
void sockframe_pingpong_server(pingpong_run&, int fd) {
    sf::framed<sf::tcp_stream, Codec> conn{sf::tcp_stream(fd), make_codec<Codec>()};
    std::error_code ec;
    while (auto frame = conn.receive(ec)) conn.send(*frame, ec);
    (void)conn.endpoint().release();
}

#if SOCKFRAME_BENCH_HAVE_ASIO
// asio: the client writes {header, payload} with asio::write and reads header then body with
// asio::read; the server async_read()s header then body and answers with async_write.
void asio_pingpong_client(pingpong_run& r, int fd) {
    asio::io_context ctx;
    asio::ip::tcp::socket s(ctx);
    s.assign(asio::ip::tcp::v4(), fd);
    std::byte header[4];
    store_be32(header, pingpong_size);
    std::byte in_header[4];
    std::vector<std::byte> body(65536);
    for (;;) {
        auto t0 = clock_type::now();
        asio::write(s, std::array<asio::const_buffer, 2>{asio::buffer(header), asio::buffer(r.payload)});
        asio::read(s, asio::buffer(in_header));
        std::uint32_t len = load_be32(in_header);
        asio::read(s, asio::buffer(body.data(), len));
        (void)checksum(body.data(), len);
        if (r.round_trip(t0, len)) break;
    }
    s.shutdown(asio::ip::tcp::socket::shutdown_send);
    (void)s.release();
}

struct asio_echo {
    asio::ip::tcp::socket s;
    std::byte header[4];
    std::vector<std::byte> body;
    asio_echo(asio::io_context& ctx, int fd) : s(ctx), body(65536) { s.assign(asio::ip::tcp::v4(), fd); }
    void read_header() {
        asio::async_read(s, asio::buffer(header), [this](const asio::error_code& ec, std::size_t) {
            if (ec) return;
            std::uint32_t len = load_be32(header);
            asio::async_read(s, asio::buffer(body.data(), len),
                             [this, len](const asio::error_code& e, std::size_t) {
                                 if (e) return;
                                 asio::async_write(s,
                                                   std::array<asio::const_buffer, 2>{
                                                       asio::buffer(header), asio::buffer(body.data(), len)},
                                                   [this](const asio::error_code& w, std::size_t) {
                                                       if (!w) read_header();
                                                   });
                             });
        });
    }
};

void asio_pingpong_server(pingpong_run&, int fd) {
    asio::io_context ctx;
    asio_echo echo(ctx, fd);
    echo.read_header();
    ctx.run();
    (void)echo.s.release();
}
#endif

using pingpong_fn = void (*)(pingpong_run&, int);

double percentile(std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

sample run_pingpong(const config& cfg, bool same_cpu, pingpong_fn client, pingpong_fn server) {
    auto [c, s] = tcp_pair(true);
    pingpong_run r(cfg);
    std::thread srv([&, fd = s] {
        pin_to(same_cpu ? cfg.cpu_a : cfg.cpu_b);
        server(r, fd);
    });
    std::thread cli([&, fd = c] {
        pin_to(cfg.cpu_a);
        client(r, fd);
    });
    cli.join();
    srv.join();
    ::close(c);
    ::close(s);
    sample out = r.m.result();
    out.p50_us = percentile(r.latencies, 0.50);
    out.p99_us = percentile(r.latencies, 0.99);
    return out;
}

// ---- udp --------------------------------------------------------------------------------------

constexpr std::size_t udp_size = 64;
constexpr std::size_t udp_batch = 64;

struct udp_run {
    const config& cfg;
    std::atomic<bool> stop{false};
    std::vector<std::byte> payload;
    meter m;
    std::uint64_t sent = 0, received = 0, sum = 0;
    std::size_t n = 0;
    std::size_t size = udp_size;  // every datagram's size
    explicit udp_run(const config& c, std::size_t datagram = udp_size)
        : cfg(c), payload(make_payload(datagram)), m(c, stop), size(datagram) {}
    /// Counts one datagram; returns false for the empty datagram that ends the run.
    bool got(const std::byte* p, std::size_t bytes) {
        if (bytes == 0) return false;
        if (bytes != size) {
            std::fprintf(stderr, "udp: datagram of %zu bytes\n", bytes);
            std::exit(3);
        }
        sum += checksum(p, bytes);
        ++received;
        ++m.msgs;
        m.bytes += bytes;
        if (++n == udp_batch) {
            n = 0;
            if (!m.done()) m.check();
        }
        return true;
    }
};

/// After the window: lets the receiver drain, then ends the run with empty datagrams.
void udp_finish(int fd) {
    for (int i = 0; i < 5; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        ::send(fd, "", 0, 0);
    }
}

void raw_udp_sender(udp_run& r, int fd) {
    while (!r.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < udp_batch; ++i) {
            ssize_t k = ::send(fd, r.payload.data(), udp_size, 0);
            if (k == static_cast<ssize_t>(udp_size)) ++r.sent;
        }
    }
    udp_finish(fd);
}

void raw_udp_receiver(udp_run& r, int fd) {
    std::byte in[2048];
    for (;;) {
        ssize_t k = ::recv(fd, in, sizeof in, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            break;  // the 1 s safety timeout
        }
        if (!r.got(in, static_cast<std::size_t>(k))) break;
    }
}

void sockframe_udp_sender(udp_run& r, int fd) {
    sf::udp_socket s(fd);
    std::error_code ec;
    const sf::const_buffer payload(r.payload);
    while (!r.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < udp_batch; ++i)
            if (s.send(payload, ec) == udp_size) ++r.sent;
    }
    udp_finish(fd);
    (void)s.release();
}

void sockframe_udp_receiver(udp_run& r, int fd) {
    sf::udp_socket s(fd);
    std::byte in[2048];
    std::error_code ec;
    for (;;) {
        std::size_t k = s.receive(sf::mutable_buffer(in, sizeof in), ec);
        if (ec) break;
        if (!r.got(in, k)) break;
    }
    (void)s.release();
}

#if SOCKFRAME_BENCH_HAVE_ASIO
// asio: socket.send() per datagram; the receiver chains async_receive.
void asio_udp_sender(udp_run& r, int fd) {
    asio::io_context ctx;
    asio::ip::udp::socket s(ctx);
    s.assign(asio::ip::udp::v4(), fd);
    asio::error_code ec;
    while (!r.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < udp_batch; ++i)
            if (s.send(asio::buffer(r.payload), 0, ec) == udp_size) ++r.sent;
    }
    udp_finish(fd);
    (void)s.release();
}

struct asio_udp_reader {
    udp_run& r;
    asio::ip::udp::socket s;
    std::byte in[2048];
    bool finished = false;
    asio_udp_reader(udp_run& run, asio::io_context& ctx, int fd) : r(run), s(ctx) {
        s.assign(asio::ip::udp::v4(), fd);
    }
    void receive() {
        s.async_receive(asio::buffer(in), [this](const asio::error_code& ec, std::size_t n) {
            if (ec || !r.got(in, n)) {
                finished = true;
                return;
            }
            receive();
        });
    }
};

void asio_udp_receiver(udp_run& r, int fd) {
    asio::io_context ctx;
    asio_udp_reader reader(r, ctx, fd);
    reader.receive();
    std::uint64_t last = ~std::uint64_t{0};
    while (!reader.finished) {  // safety net: give up after 1 s without a datagram once stopped
        ctx.run_for(std::chrono::seconds(1));
        if (r.stop.load() && r.received == last) break;
        last = r.received;
    }
    (void)reader.s.release();
}
#endif

using udp_fn = void (*)(udp_run&, int);

sample run_udp(const config& cfg, udp_fn sender, udp_fn receiver) {
    auto [tx_fd, rx_fd] = udp_pair();
    udp_run r(cfg);
    std::thread rx([&, fd = rx_fd] {
        pin_to(cfg.cpu_b);
        receiver(r, fd);
    });
    std::thread tx([&, fd = tx_fd] {
        pin_to(cfg.cpu_a);
        sender(r, fd);
    });
    tx.join();
    rx.join();
    ::close(tx_fd);
    ::close(rx_fd);
    sample out = r.m.result();
    out.loss = r.sent > 0 ? 1.0 - static_cast<double>(r.received) / static_cast<double>(r.sent) : 0;
    if (out.loss < 0) out.loss = 0;
    return out;
}

// ---- udp_batched (framed), udp_gso, sendfile ----------------------------------------------------
//
// udp_batched  datagrams of `size` bytes (a 2-byte big-endian length, then the payload):
//              sockframe = framed<udp_socket, length_prefix<uint16_t>> send_batch of 64 frames and
//              receive_batch (recvmmsg, each datagram checked by the codec); sockframe_socket =
//              the socket's own send_batch / receive_batch of plain buffers; raw = a sendmmsg /
//              recvmmsg loop that writes and checks the same 2-byte header.
// udp_gso      `size`-byte datagrams from one buffer: sockframe = send_segments (UDP GSO) into a
//              receive_batch with UDP GRO; raw = sendmsg with UDP_SEGMENT into a recvmmsg GRO loop;
//              raw_sendmmsg and raw_sendto send the same datagrams with sendmmsg (64 per call) and
//              one send() each into the same GRO receiver.
// sendfile     one 64 MiB frame (4-byte length, then a file's bytes) over TCP: sockframe =
//              send_file_frame (sendfile); raw = read() 256 KiB of the file, send() it, repeat.
//              The receiver reads and discards, the same for both.

constexpr std::size_t dgram_batch = 64;

void put_be16(std::byte* p, std::size_t n) {
    p[0] = static_cast<std::byte>(n >> 8);
    p[1] = static_cast<std::byte>(n & 0xff);
}

void sockframe_framed_udp_sender(udp_run& r, int fd) {
    sf::framed f{sf::udp_socket(fd), sf::length_prefix<std::uint16_t>{2048}};
    // sendmmsg against sendmmsg: equal-size frames would otherwise leave by UDP GSO, which is
    // the udp_gso workload's comparison (against a raw GSO loop).
    f.endpoint().set_segmentation_offload(false);
    std::error_code ec;
    sf::const_buffer batch[dgram_batch];
    for (auto& b : batch) b = sf::const_buffer(r.payload.data(), r.size - 2);
    while (!r.stop.load(std::memory_order_relaxed)) {
        f.send_batch(batch, dgram_batch, ec);
        if (!ec) r.sent += dgram_batch;
    }
    udp_finish(fd);
    (void)f.endpoint().release();
}

void sockframe_framed_udp_receiver(udp_run& r, int fd) {
    sf::framed f{sf::udp_socket(fd), sf::length_prefix<std::uint16_t>{2048}};
    std::error_code ec;
    bool more = true;
    while (more) {
        const std::size_t k = f.receive_batch(
            [&](sf::const_buffer payload) {
                more = r.got(payload.data() - 2, payload.size() + 2);
                return more;
            },
            sf::deadline{}, ec);
        if (ec || k == 0) break;  // the empty datagram that ends the run is the codec's error
    }
    (void)f.endpoint().release();
}

void raw_framed_udp_sender(udp_run& r, int fd) {
    std::byte header[2];
    put_be16(header, r.size - 2);
    ::iovec v[dgram_batch][2];
    ::mmsghdr msgs[dgram_batch];
    while (!r.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < dgram_batch; ++i) {
            v[i][0] = {header, 2};
            v[i][1] = {r.payload.data(), r.size - 2};
            msgs[i] = ::mmsghdr{};
            msgs[i].msg_hdr.msg_iov = v[i];
            msgs[i].msg_hdr.msg_iovlen = 2;
        }
        int k = ::sendmmsg(fd, msgs, dgram_batch, 0);
        if (k > 0) r.sent += static_cast<std::uint64_t>(k);
    }
    udp_finish(fd);
}

void raw_framed_udp_receiver(udp_run& r, int fd) {
    static thread_local std::byte in[dgram_batch][2048];
    ::iovec v[dgram_batch];
    ::mmsghdr msgs[dgram_batch];
    for (;;) {
        for (std::size_t i = 0; i < dgram_batch; ++i) {
            v[i] = {in[i], sizeof in[i]};
            msgs[i] = ::mmsghdr{};
            msgs[i].msg_hdr.msg_iov = &v[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int k = ::recvmmsg(fd, msgs, dgram_batch, MSG_WAITFORONE, nullptr);
        if (k < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < k; ++i) {
            const std::size_t n = msgs[i].msg_len;
            if (n < 2) return;  // the end
            const std::size_t length =
                (static_cast<std::size_t>(in[i][0]) << 8) | static_cast<std::size_t>(in[i][1]);
            if (length != n - 2) die("raw udp: header disagrees with the datagram");
            if (!r.got(in[i], n)) return;
        }
    }
}

void sockframe_socket_udp_sender(udp_run& r, int fd) {
    sf::udp_socket s(fd);
    std::error_code ec;
    sf::const_buffer batch[dgram_batch];
    for (auto& b : batch) b = sf::const_buffer(r.payload.data(), r.size);
    while (!r.stop.load(std::memory_order_relaxed)) r.sent += s.send_batch(batch, dgram_batch, ec);
    udp_finish(fd);
    (void)s.release();
}

void sockframe_socket_udp_receiver(udp_run& r, int fd) {
    sf::udp_socket s(fd);
    static thread_local std::byte in[dgram_batch][2048];
    sf::message_slot slots[dgram_batch];
    for (std::size_t i = 0; i < dgram_batch; ++i) slots[i].buffer = sf::mutable_buffer(in[i], sizeof in[i]);
    std::error_code ec;
    for (;;) {
        std::size_t k = s.receive_batch(slots, dgram_batch, ec);
        if (ec) break;
        for (std::size_t i = 0; i < k; ++i)
            if (!r.got(slots[i].buffer.data(), slots[i].size)) goto done;
    }
done:
    (void)s.release();
}

/// Datagrams one GSO call carries for `size`: at most 64 and about 64 KB.
std::size_t gso_per_call(std::size_t size) { return std::min<std::size_t>(64, 65000 / size); }

void sockframe_gso_sender(udp_run& r, int fd) {
    sf::udp_socket s(fd);
    std::error_code ec;
    const std::size_t per = gso_per_call(r.size);
    std::vector<std::byte> data(per * r.size);
    for (std::size_t i = 0; i < per; ++i) std::memcpy(data.data() + i * r.size, r.payload.data(), r.size);
    while (!r.stop.load(std::memory_order_relaxed))
        r.sent += s.send_segments(data, r.size, sf::deadline{}, ec);
    if (!s.segmentation_offload())
        std::fprintf(stderr, "udp_gso: the kernel refused GSO; sockframe fell back\n");
    udp_finish(fd);
    (void)s.release();
}

void raw_sendmmsg_sender(udp_run& r, int fd);

void raw_gso_sender(udp_run& r, int fd) {
    const std::size_t per = gso_per_call(r.size);
    std::vector<std::byte> data(per * r.size);
    for (std::size_t i = 0; i < per; ++i) std::memcpy(data.data() + i * r.size, r.payload.data(), r.size);
    alignas(::cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))] = {};
    ::iovec v{data.data(), data.size()};
    ::msghdr msg{};
    msg.msg_iov = &v;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ::cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    const auto segment = static_cast<std::uint16_t>(r.size);
    std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
    while (!r.stop.load(std::memory_order_relaxed)) {
        if (::sendmsg(fd, &msg, 0) > 0) {
            r.sent += per;
        } else if (errno != EINTR && errno != EAGAIN && errno != ENOBUFS) {
            std::fprintf(stderr, "udp_gso: the kernel refused GSO (%s); raw sends with sendmmsg\n",
                         std::strerror(errno));
            raw_sendmmsg_sender(r, fd);
            return;
        }
    }
    udp_finish(fd);
}

void raw_sendmmsg_sender(udp_run& r, int fd) {
    ::iovec v[dgram_batch];
    ::mmsghdr msgs[dgram_batch];
    while (!r.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < dgram_batch; ++i) {
            v[i] = {r.payload.data(), r.size};
            msgs[i] = ::mmsghdr{};
            msgs[i].msg_hdr.msg_iov = &v[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int k = ::sendmmsg(fd, msgs, dgram_batch, 0);
        if (k > 0) r.sent += static_cast<std::uint64_t>(k);
    }
    udp_finish(fd);
}

void raw_sendto_sender(udp_run& r, int fd) {
    while (!r.stop.load(std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < dgram_batch; ++i)
            if (::send(fd, r.payload.data(), r.size, 0) > 0) ++r.sent;
    }
    udp_finish(fd);
}

constexpr std::size_t gro_slots = 16;

/// Counts the datagrams of one received buffer (GRO: several of `segment` bytes).
bool got_segments(udp_run& r, const std::byte* p, std::size_t n, std::size_t segment) {
    if (n == 0) return false;
    if (segment == 0) segment = n;
    for (std::size_t at = 0; at < n; at += segment)
        if (!r.got(p + at, std::min(segment, n - at))) return false;
    return true;
}

void raw_gro_receiver(udp_run& r, int fd) {
    const int on = 1;
    if (::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on) != 0)
        std::fprintf(stderr, "udp_gso: the kernel refused UDP_GRO (%s): one datagram per buffer\n",
                     std::strerror(errno));
    static thread_local std::byte in[gro_slots][65536];
    alignas(::cmsghdr) static thread_local char control[gro_slots][64];
    ::iovec v[gro_slots];
    ::mmsghdr msgs[gro_slots];
    for (;;) {
        for (std::size_t i = 0; i < gro_slots; ++i) {
            v[i] = {in[i], sizeof in[i]};
            msgs[i] = ::mmsghdr{};
            msgs[i].msg_hdr.msg_iov = &v[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = control[i];
            msgs[i].msg_hdr.msg_controllen = sizeof control[i];
        }
        int k = ::recvmmsg(fd, msgs, gro_slots, MSG_WAITFORONE, nullptr);
        if (k < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < k; ++i) {
            std::size_t segment = 0;
            for (::cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr;
                 c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
                if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
                    int size = 0;
                    std::memcpy(&size, CMSG_DATA(c), sizeof size);
                    segment = static_cast<std::size_t>(size);
                }
            if (!got_segments(r, in[i], msgs[i].msg_len, segment)) return;
        }
    }
}

void sockframe_gro_receiver(udp_run& r, int fd) {
    sf::udp_socket s(fd);
    std::error_code gro;
    s.enable_gro(true, gro);  // refused: one datagram per buffer, counted the same way
    static thread_local std::byte in[gro_slots][65536];
    sf::datagram_info info[gro_slots];
    sf::message_slot slots[gro_slots];
    for (std::size_t i = 0; i < gro_slots; ++i) {
        slots[i].buffer = sf::mutable_buffer(in[i], sizeof in[i]);
        slots[i].info = &info[i];
    }
    std::error_code ec;
    for (;;) {
        const std::size_t k = s.receive_batch(slots, gro_slots, ec);
        if (ec) break;
        for (std::size_t i = 0; i < k; ++i)
            if (!got_segments(r, in[i], slots[i].size, info[i].segment_size)) goto done;
    }
done:
    (void)s.release();
}

sample run_sized_udp(const config& cfg, std::size_t size, udp_fn sender, udp_fn receiver) {
    auto [tx_fd, rx_fd] = udp_pair();
    udp_run r(cfg, size);
    std::thread rx([&, fd = rx_fd] {
        pin_to(cfg.cpu_b);
        receiver(r, fd);
    });
    std::thread tx([&, fd = tx_fd] {
        pin_to(cfg.cpu_a);
        sender(r, fd);
    });
    tx.join();
    rx.join();
    ::close(tx_fd);
    ::close(rx_fd);
    sample out = r.m.result();
    out.loss = r.sent > 0 ? 1.0 - static_cast<double>(r.received) / static_cast<double>(r.sent) : 0;
    if (out.loss < 0) out.loss = 0;
    return out;
}

// ---- sendfile ------------------------------------------------------------------------------------

constexpr std::size_t file_frame_size = 64u * 1024u * 1024u;

/// The 64 MiB file both senders send from (made once, removed at exit).
struct bench_file {
    std::string path;
    int fd = -1;
    bench_file() {
        char pattern[] = "/tmp/sockframe-bench-XXXXXX";
        fd = ::mkstemp(pattern);
        if (fd < 0) die("mkstemp");
        path = pattern;
        std::vector<std::byte> chunk = make_payload(1 << 20);
        for (std::size_t i = 0; i < file_frame_size / chunk.size(); ++i)
            if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) die("write");
    }
    ~bench_file() {
        ::close(fd);
        ::unlink(path.c_str());
    }
};

struct file_run {
    std::atomic<bool> stop{false};
    meter m;
    double sender_cpu = 0;
    std::uint64_t frames_sent = 0;
    explicit file_run(const config& c) : m(c, stop) {}
};

double thread_cpu_seconds() {
    ::timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void sockframe_file_sender(file_run& r, int fd, int file) {
    sf::framed f{sf::tcp_stream(fd), sf::length_prefix<std::uint32_t>{file_frame_size}};
    const double c0 = thread_cpu_seconds();
    std::error_code ec;
    while (!r.stop.load(std::memory_order_relaxed)) {
        sf::send_file_frame(f, file, 0, file_frame_size, sf::deadline{}, ec);
        if (ec) break;
        ++r.frames_sent;
    }
    r.sender_cpu = thread_cpu_seconds() - c0;
    f.endpoint().shutdown(sf::shutdown_type::send, ec);
    (void)f.endpoint().release();
}

void raw_file_sender(file_run& r, int fd, int file) {
    std::vector<std::byte> buffer(256 * 1024);
    const double c0 = thread_cpu_seconds();
    while (!r.stop.load(std::memory_order_relaxed)) {
        std::byte header[4];
        store_be32(header, static_cast<std::uint32_t>(file_frame_size));
        send_all_raw(fd, header, 4);
        std::size_t done = 0;
        while (done < file_frame_size) {
            const ssize_t n = ::pread(file, buffer.data(), std::min(buffer.size(), file_frame_size - done),
                                      static_cast<off_t>(done));
            if (n <= 0) die("pread");
            send_all_raw(fd, buffer.data(), static_cast<std::size_t>(n));
            done += static_cast<std::size_t>(n);
        }
        ++r.frames_sent;
    }
    r.sender_cpu = thread_cpu_seconds() - c0;
    ::shutdown(fd, SHUT_WR);
}

/// Reads frames (4-byte length, then that many bytes), discarding the payload.
void file_receiver(file_run& r, int fd) {
    std::vector<std::byte> buffer(1 << 20);
    std::size_t left_in_frame = 0, header_have = 0;
    std::byte header[4];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n <= 0) return;
        std::size_t at = 0;
        const auto got = static_cast<std::size_t>(n);
        while (at < got) {
            if (left_in_frame == 0) {
                header[header_have++] = buffer[at++];
                if (header_have == 4) {
                    left_in_frame = load_be32(header);
                    header_have = 0;
                    if (left_in_frame != file_frame_size) die("sendfile: bad frame header");
                }
                continue;
            }
            const std::size_t take = std::min(left_in_frame, got - at);
            at += take;
            left_in_frame -= take;
            r.m.bytes += take;
            if (left_in_frame == 0) {
                ++r.m.msgs;
                r.m.check();
            }
        }
        if (!r.m.done()) r.m.check();
    }
}

using file_fn = void (*)(file_run&, int, int);

sample run_file(const config& cfg, int file, file_fn sender, const char* impl) {
    auto [client, server] = tcp_pair(false);
    file_run r(cfg);
    std::thread rx([&, fd = server] {
        pin_to(cfg.cpu_b);
        file_receiver(r, fd);
    });
    std::thread tx([&, fd = client] {
        pin_to(cfg.cpu_a);
        sender(r, fd, file);
    });
    tx.join();
    rx.join();
    ::close(client);
    ::close(server);
    if (r.frames_sent > 0)
        std::fprintf(stderr, "  sendfile %-10s sender CPU %.1f ms per 64 MiB frame (%llu frames)\n", impl,
                     r.sender_cpu * 1e3 / static_cast<double>(r.frames_sent),
                     static_cast<unsigned long long>(r.frames_sent));
    return r.m.result();
}

// ---- the plan -----------------------------------------------------------------------------------

struct candidate {
    std::string impl;
    std::function<sample()> run;
};

double median(std::vector<double> v) {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The q-quantile (0..1) of `v`, linearly interpolated; -1 if empty.
double quantile(std::vector<double> v, double q) {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    const double at = q * static_cast<double>(v.size() - 1);
    const auto i = static_cast<std::size_t>(at);
    if (i + 1 >= v.size()) return v.back();
    return v[i] + (at - static_cast<double>(i)) * (v[i + 1] - v[i]);
}

/// Runs every candidate `repeats` times, interleaved, and keeps each one's medians.
void measure(const config& cfg, const std::string& workload, std::size_t size, bool has_mb, bool has_latency,
             std::vector<candidate> candidates, std::vector<result>& out) {
    if (!cfg.impls.empty()) {
        auto unwanted = [&](const candidate& c) {
            return std::find(cfg.impls.begin(), cfg.impls.end(), c.impl) == cfg.impls.end();
        };
        candidates.erase(std::remove_if(candidates.begin(), candidates.end(), unwanted), candidates.end());
    }
    // Forward, then backward, then forward...: a machine that speeds up or slows down during the
    // run favours no implementation; ratios are taken within each repeat (neighbours in time).
    std::vector<std::vector<sample>> samples(candidates.size(),
                                             std::vector<sample>(static_cast<std::size_t>(cfg.repeats)));
    for (int rep = 0; rep < cfg.repeats; ++rep)
        for (std::size_t k = 0; k < candidates.size(); ++k) {
            std::size_t i = rep % 2 == 0 ? k : candidates.size() - 1 - k;
            samples[i][static_cast<std::size_t>(rep)] = candidates[i].run();
        }
    std::size_t raw_index = candidates.size(), raw_big_index = candidates.size(),
                sf_index = candidates.size();
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (candidates[i].impl == "raw") raw_index = i;
        if (candidates[i].impl == "raw_big") raw_big_index = i;
        if (candidates[i].impl == "sockframe") sf_index = i;
    }
    // msgs/s of candidate i over candidate `base`, one ratio per repeat (neighbours in time)
    auto rates_against = [&](std::size_t i, std::size_t base) {
        std::vector<double> rate;
        for (std::size_t k = 0; k < samples[i].size(); ++k)
            if (samples[base][k].msgs_per_s > 0)
                rate.push_back(samples[i][k].msgs_per_s / samples[base][k].msgs_per_s);
        return rate;
    };
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        auto pick = [&](double sample::*field) {
            std::vector<double> v;
            for (const auto& s : samples[i]) v.push_back(s.*field);
            return median(v);
        };
        result r;
        r.workload = workload;
        r.size = size;
        r.impl = candidates[i].impl;
        r.s.msgs_per_s = pick(&sample::msgs_per_s);
        r.s.mb_per_s = pick(&sample::mb_per_s);
        r.s.p50_us = pick(&sample::p50_us);
        r.s.p99_us = pick(&sample::p99_us);
        r.s.allocs_per_msg = pick(&sample::allocs_per_msg);
        r.s.loss = pick(&sample::loss);
        r.has_mb = has_mb;
        r.has_latency = has_latency;
        if (raw_index < candidates.size()) {
            std::vector<double> rate, p99;
            for (std::size_t k = 0; k < samples[i].size(); ++k) {
                const sample& mine = samples[i][k];
                const sample& raw = samples[raw_index][k];
                if (raw.msgs_per_s > 0) rate.push_back(mine.msgs_per_s / raw.msgs_per_s);
                if (raw.p99_us > 0) p99.push_back(mine.p99_us / raw.p99_us);
            }
            r.ratio = median(rate);
            r.p99_ratio = median(p99);
        }
        if (raw_big_index < candidates.size()) {
            const std::vector<double> rate = rates_against(i, raw_big_index);
            r.ratio_big = median(rate);
            r.ratio_big_lo = quantile(rate, 0.25);
            r.ratio_big_hi = quantile(rate, 0.75);
        }
        if (sf_index < candidates.size()) r.ratio_sf = median(rates_against(i, sf_index));
        out.push_back(r);
        if (!cfg.json)
            std::fprintf(stderr, "  %-18s %6zu %-17s %14.0f msgs/s\n", workload.c_str(), size, r.impl.c_str(),
                         r.s.msgs_per_s);
    }
}

bool wanted(const config& cfg, const std::string& workload) {
    if (cfg.only.empty()) return true;
    return std::find(cfg.only.begin(), cfg.only.end(), workload) != cfg.only.end();
}

std::vector<result> run_all(const config& cfg) {
    std::vector<result> out;
    for (std::size_t size : {std::size_t{16}, std::size_t{128}, std::size_t{1024}, std::size_t{65536}}) {
        if (!wanted(cfg, "stream")) break;
        if (!cfg.sizes.empty() && std::find(cfg.sizes.begin(), cfg.sizes.end(), size) == cfg.sizes.end())
            continue;
        std::vector<candidate> c;
        c.push_back({"sockframe", [&, size] {
                         return run_stream(cfg, size, sockframe_stream_sender<lp_codec>,
                                           sockframe_stream_receiver<lp_codec>);
                     }});
        c.push_back({"sockframe_default", [&, size] {
                         return run_stream(cfg, size, sockframe_default_stream_sender,
                                           sockframe_default_stream_receiver);
                     }});
        c.push_back(
            {"raw", [&, size] { return run_stream(cfg, size, raw_stream_sender, raw_stream_receiver); }});
        c.push_back({"raw_big", [&, size] {
                         return run_stream(cfg, size, raw_big_stream_sender, raw_big_stream_receiver);
                     }});
        c.push_back({"sockframe_checked", [&, size] {
                         return run_stream(cfg, size, sockframe_stream_sender<checked_codec>,
                                           sockframe_stream_receiver<checked_codec>);
                     }});
        c.push_back({"sockframe_any", [&, size] {
                         return run_stream(cfg, size, sockframe_stream_sender<sf::any_codec>,
                                           sockframe_stream_receiver<sf::any_codec>);
                     }});
#if SOCKFRAME_BENCH_HAVE_ASIO
        c.push_back(
            {"asio", [&, size] { return run_stream(cfg, size, asio_stream_sender, asio_stream_receiver); }});
#endif
        if (cfg.mixed) {  // which side limits: sockframe's sender or its receiver against raw's other side
            c.push_back({"sf_tx+raw_rx", [&, size] {
                             return run_stream(cfg, size, sockframe_stream_sender<lp_codec>,
                                               raw_stream_receiver);
                         }});
            c.push_back({"raw_tx+sf_rx", [&, size] {
                             return run_stream(cfg, size, raw_stream_sender,
                                               sockframe_stream_receiver<lp_codec>);
                         }});
            c.push_back({"sf_receive()", [&, size] {
                             return run_stream(cfg, size, sockframe_stream_sender<lp_codec>,
                                               sockframe_stream_receiver_per_frame);
                         }});
        }
        measure(cfg, "stream", size, true, false, c, out);
    }
    for (bool same : {false, true}) {
        std::string name = same ? "pingpong_same_cpu" : "pingpong";
        if (!wanted(cfg, name)) continue;
        std::vector<candidate> c;
        c.push_back({"sockframe", [&, same] {
                         return run_pingpong(cfg, same, sockframe_pingpong_client<lp_codec>,
                                             sockframe_pingpong_server<lp_codec>);
                     }});
        c.push_back(
            {"raw", [&, same] { return run_pingpong(cfg, same, raw_pingpong_client, raw_pingpong_server); }});
        c.push_back({"sockframe_checked", [&, same] {
                         return run_pingpong(cfg, same, sockframe_pingpong_client<checked_codec>,
                                             sockframe_pingpong_server<checked_codec>);
                     }});
        c.push_back({"sockframe_any", [&, same] {
                         return run_pingpong(cfg, same, sockframe_pingpong_client<sf::any_codec>,
                                             sockframe_pingpong_server<sf::any_codec>);
                     }});
#if SOCKFRAME_BENCH_HAVE_ASIO
        c.push_back({"asio", [&, same] {
                         return run_pingpong(cfg, same, asio_pingpong_client, asio_pingpong_server);
                     }});
#endif
        measure(cfg, name, pingpong_size, false, true, c, out);
    }
    if (wanted(cfg, "udp")) {
        std::vector<candidate> c;
        c.push_back(
            {"sockframe", [&] { return run_udp(cfg, sockframe_udp_sender, sockframe_udp_receiver); }});
        c.push_back({"raw", [&] { return run_udp(cfg, raw_udp_sender, raw_udp_receiver); }});
#if SOCKFRAME_BENCH_HAVE_ASIO
        c.push_back({"asio", [&] { return run_udp(cfg, asio_udp_sender, asio_udp_receiver); }});
#endif
        measure(cfg, "udp", udp_size, true, false, c, out);
    }
    for (std::size_t size : {std::size_t{64}, std::size_t{1200}}) {
        if (!wanted(cfg, "udp_batched")) break;
        if (!cfg.sizes.empty() && std::find(cfg.sizes.begin(), cfg.sizes.end(), size) == cfg.sizes.end())
            continue;
        std::vector<candidate> c;
        c.push_back({"sockframe", [&, size] {
                         return run_sized_udp(cfg, size, sockframe_framed_udp_sender,
                                              sockframe_framed_udp_receiver);
                     }});
        c.push_back({"raw", [&, size] {
                         return run_sized_udp(cfg, size, raw_framed_udp_sender, raw_framed_udp_receiver);
                     }});
        c.push_back({"sockframe_socket", [&, size] {
                         return run_sized_udp(cfg, size, sockframe_socket_udp_sender,
                                              sockframe_socket_udp_receiver);
                     }});
        measure(cfg, "udp_batched", size, true, false, c, out);
    }
    for (std::size_t size : {std::size_t{64}, std::size_t{1200}}) {
        if (!wanted(cfg, "udp_gso")) break;
        if (!cfg.sizes.empty() && std::find(cfg.sizes.begin(), cfg.sizes.end(), size) == cfg.sizes.end())
            continue;
        std::vector<candidate> c;
        c.push_back({"sockframe", [&, size] {
                         return run_sized_udp(cfg, size, sockframe_gso_sender, sockframe_gro_receiver);
                     }});
        c.push_back(
            {"raw", [&, size] { return run_sized_udp(cfg, size, raw_gso_sender, raw_gro_receiver); }});
        c.push_back({"raw_sendmmsg",
                     [&, size] { return run_sized_udp(cfg, size, raw_sendmmsg_sender, raw_gro_receiver); }});
        c.push_back({"raw_sendto",
                     [&, size] { return run_sized_udp(cfg, size, raw_sendto_sender, raw_gro_receiver); }});
        measure(cfg, "udp_gso", size, true, false, c, out);
    }
    if (wanted(cfg, "sendfile") && (cfg.sizes.empty() || std::find(cfg.sizes.begin(), cfg.sizes.end(),
                                                                   file_frame_size) != cfg.sizes.end())) {
        bench_file file;
        std::vector<candidate> c;
        c.push_back(
            {"sockframe", [&] { return run_file(cfg, file.fd, sockframe_file_sender, "sockframe"); }});
        c.push_back({"raw", [&] { return run_file(cfg, file.fd, raw_file_sender, "raw"); }});
        measure(cfg, "sendfile", file_frame_size, true, false, c, out);
    }
    return out;
}

// ---- output -------------------------------------------------------------------------------------

const result* find(const std::vector<result>& all, const result& r, const char* impl) {
    for (const auto& x : all)
        if (x.workload == r.workload && x.size == r.size && x.impl == impl) return &x;
    return nullptr;
}

void print_json(const std::vector<result>& all) {
    std::printf("[\n");
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& r = all[i];
        std::printf("  {\"workload\": \"%s\", \"size\": %zu, \"impl\": \"%s\", \"msgs_per_s\": %.1f",
                    r.workload.c_str(), r.size, r.impl.c_str(), r.s.msgs_per_s);
        if (r.has_mb) std::printf(", \"mb_per_s\": %.2f", r.s.mb_per_s);
        if (r.has_latency) std::printf(", \"p50_us\": %.2f, \"p99_us\": %.2f", r.s.p50_us, r.s.p99_us);
        std::printf(", \"allocs_per_msg\": %.6f}%s\n", r.s.allocs_per_msg, i + 1 < all.size() ? "," : "");
    }
    std::printf("]\n");
}

void print_table(const config& cfg, const std::vector<result>& all) {
    std::printf(
        "sockframe_bench: %d repeat(s) of %.2f s (after %.2f s warm-up), medians; x raw and p99/raw are "
        "medians of "
        "the per-repeat ratios; sender/client on CPU %d, receiver/server on CPU %d (pingpong_same_cpu: both "
        "on "
        "CPU %d)\n",
        cfg.repeats, cfg.duration, cfg.warmup, cfg.cpu_a, cfg.cpu_b, cfg.cpu_a);
#if !SOCKFRAME_BENCH_HAVE_ASIO
    std::printf("note: built without asio.hpp (install libasio-dev): no asio rows\n");
#endif
    std::printf("%-18s %6s %-17s %14s %10s %9s %9s %8s %7s %8s %8s %10s\n", "workload", "size", "impl",
                "msgs/s", "MB/s", "p50 us", "p99 us", "allocs", "loss", "x raw", "p99/raw", "x raw_big");
    for (const auto& r : all) {
        char mb[32] = "-", p50[32] = "-", p99[32] = "-", loss[32] = "-", ratio[32] = "-", p99r[32] = "-",
             big[32] = "-";
        if (r.has_mb) std::snprintf(mb, sizeof mb, "%.1f", r.s.mb_per_s);
        if (r.has_latency) {
            std::snprintf(p50, sizeof p50, "%.1f", r.s.p50_us);
            std::snprintf(p99, sizeof p99, "%.1f", r.s.p99_us);
            if (r.p99_ratio > 0) std::snprintf(p99r, sizeof p99r, "%.2f", r.p99_ratio);
        }
        if (r.s.loss >= 0) std::snprintf(loss, sizeof loss, "%.1f%%", r.s.loss * 100);
        if (r.ratio > 0) std::snprintf(ratio, sizeof ratio, "%.2f", r.ratio);
        if (r.ratio_big > 0) std::snprintf(big, sizeof big, "%.2f", r.ratio_big);
        std::printf("%-18s %6zu %-17s %14.0f %10s %9s %9s %8.3f %7s %8s %8s %10s\n", r.workload.c_str(),
                    r.size, r.impl.c_str(), r.s.msgs_per_s, mb, p50, p99, r.s.allocs_per_msg, loss, ratio,
                    p99r, big);
    }
    for (const auto& r : all) {
        if (r.workload != "stream" || r.impl != "sockframe") continue;
        const result* asio = find(all, r, "asio");
        if (asio && asio->s.msgs_per_s > 0)
            std::printf("stream %zu B: sockframe is %.1fx asio\n", r.size,
                        r.s.msgs_per_s / asio->s.msgs_per_s);
    }
    for (const auto& r : all) {  // the default-settings goal: >= 0.9x raw_big at 16 and 128 bytes
        if (r.workload != "stream" || r.impl != "sockframe_default" || r.ratio_big <= 0) continue;
        std::printf(
            "stream %zu B: sockframe_default is %.2fx raw_big (quartiles of the repeats %.2f-%.2f)%s\n",
            r.size, r.ratio_big, r.ratio_big_lo, r.ratio_big_hi,
            r.size <= 128 ? (r.ratio_big >= 0.9 ? " (goal >= 0.9: met)" : " (goal >= 0.9: not met)") : "");
    }
    for (const auto& r : all) {  // composed and type-erased codecs against the plain one, same repeats
        if ((r.impl != "sockframe_checked" && r.impl != "sockframe_any") || r.ratio_sf <= 0) continue;
        std::printf("%s %zu B: %s is %.2fx sockframe\n", r.workload.c_str(), r.size, r.impl.c_str(),
                    r.ratio_sf);
    }
}

void usage() {
    std::fprintf(
        stderr,
        "usage: sockframe_bench [--quick] [--json] [--repeats N] [--seconds S] [--only WORKLOAD]...\n"
        "                       [--size N]... [--impl NAME]... [--mixed]\n"
        "  --quick      one short repeat of each (under a minute in all)\n"
        "  --json       a JSON array on stdout instead of the table\n"
        "  --repeats N  measured repeats per row (default 9); the table shows medians\n"
        "  --seconds S  measured window of each repeat (default 0.5)\n"
        "  --only W     stream, pingpong, pingpong_same_cpu, udp, udp_batched, udp_gso,\n"
        "               sendfile (repeatable)\n"
        "  --size N     payload size: stream 16, 128, 1024, 65536; udp_batched and udp_gso 64, 1200;\n"
        "               sendfile 67108864 (repeatable; default all)\n"
        "  --impl NAME  run only this implementation (repeatable; for profiling: no ratio without raw)\n"
        "               stream: sockframe sockframe_default sockframe_checked sockframe_any raw raw_big\n"
        "               asio; pingpong: sockframe sockframe_checked sockframe_any raw asio\n"
        "  --mixed      stream also with sockframe's sender against raw's receiver and the reverse,\n"
        "               and with sockframe's receiver calling receive() once per frame\n");
}

}  // namespace

int main(int argc, char** argv) {
    config cfg;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--quick") {
            cfg.repeats = 1;
            cfg.duration = 0.3;
            cfg.warmup = 0.1;
        } else if (a == "--mixed") {
            cfg.mixed = true;
        } else if (a == "--json") {
            cfg.json = true;
        } else if (a == "--repeats" && i + 1 < argc) {
            cfg.repeats = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--seconds" && i + 1 < argc) {
            cfg.duration = std::max(0.05, std::atof(argv[++i]));
        } else if (a == "--only" && i + 1 < argc) {
            cfg.only.push_back(argv[++i]);
        } else if (a == "--size" && i + 1 < argc) {
            cfg.sizes.push_back(static_cast<std::size_t>(std::strtoull(argv[++i], nullptr, 10)));
        } else if (a == "--impl" && i + 1 < argc) {
            cfg.impls.push_back(argv[++i]);
        } else {
            usage();
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    sched_getaffinity(0, sizeof allowed, &allowed);
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    cfg.cpu_a = cpus.empty() ? 0 : cpus[0];
    cfg.cpu_b = cpus.size() > 1 ? cpus[1] : cfg.cpu_a;

    auto results = run_all(cfg);
    if (cfg.json)
        print_json(results);
    else
        print_table(cfg, results);
    return 0;
}
