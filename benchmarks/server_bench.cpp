// sockframe_server_bench: many-connection echo servers, each on one thread, against one load
// generator, in one process run.
//
//   sockframe_server_bench [--quick] [--json] [--repeats N] [--seconds S] [--only WORKLOAD]
//                          [--impl IMPL] [--idle-connections N] [--interleave S]
//
// The load generator is this process's main thread, pinned to CPU 0: one non-blocking epoll loop
// drives every connection, checks every byte of every echo (sequence number, connection id and
// payload pattern) and records each frame's round trip for p50/p99. Each server runs on ONE
// thread pinned to CPU 1, one after another, the order reversed every other repeat; the figures
// are medians over the repeats and every ratio is the median of the per-repeat ratios to `raw`.
// Run one after another, each server (and the generator with it) runs in a fresh process of its
// own (this program, exec'd again): its memory growth is then its own, not shaped by the heap the
// servers before it left behind.
// --interleave S: in each repeat every server runs at once (each on its own thread, pinned to the
// same CPU), and the generator drives one at a time, in turns of S seconds of measured time (each
// turn drained before the next; a 10 ms lead-in of each turn is not counted) until every server
// has had --seconds: the servers then meet the same machine, second by second, where one after
// another they meet whatever it was doing at their turn. Each server's memory is then its VmRSS
// growth from before its connections open to the end of its first turn. A workload whose
// connections for every server at once exceed RLIMIT_NOFILE (idle_10k, unless the hard limit is
// raised) runs its servers one after another, as without --interleave (said on stderr).
// Frames: a 4-byte big-endian length, then the payload; the servers echo each frame whole.
//
// Servers (IMPL):
//   raw             epoll written here: one 256 KiB receive buffer for the loop, every buffered
//                   frame decoded, replies copied into one buffer and written in one send per
//                   wake-up; a partial write keeps the rest and stops reading until it drains
//   sockframe       sockframe's framed_server (server.hpp) with an echo on_frame handler: the way
//                   the library means servers to be written
//   sockframe_coro  C++20 coroutines (coro.hpp): an accepting coroutine and one per connection,
//                   `while (auto m = co_await conn.receive()) co_await conn.send(*m);`
//                   (built when the benchmark is compiled as C++20)
//   sockframe_loop  sockframe's event_loop + framed<socket, length_prefix<>> written by hand:
//                   receive_batch, queue every reply, one flush per wake-up, read interest off
//                   while the queue is over its high-water mark (what framed_server does, without
//                   its limits, timers and buffer pool)
//   asio            Asio, idiomatic: async_read of the header, then of the body, one
//                   async_write per frame
//   asio_batched    Asio, batched: async_read_some into a 64 KiB buffer, decode every complete
//                   frame, one gathered async_write of them all
//
// Workloads (connections x payload, frames in flight per connection):
//   pingpong_512    1000 x 512 B, 1 in flight
//   pingpong_64     100 x 64 B, 1 in flight
//   stream_512      4 x 512 B, 64 in flight
//   stream_16       4 x 16 B, 256 in flight
//   idle_10k        10,000 open (fewer if RLIMIT_NOFILE's hard limit is lower: said on stderr),
//                   100 of them ping-pong 64 B; the server's memory is its process's VmRSS growth
//                   from before the connections are opened to the end of the timed window (the
//                   generator's own state is allocated and touched before that baseline)
//
// With SFB_TOTAL set in the environment, each run also prints "TOTAL <n>" on stderr: the frames
// echoed in all (warm-up included), to divide a server's instruction count by (callgrind; see
// docs/server.md, "Counting instructions").
//
// --json prints one array of {"workload","impl","frames_per_s","p50_us","p99_us","rss_mib",
// "connections","kib_per_conn","server_busy"} plus, when raw ran, "ratio_to_raw" and
// "p99_ratio_to_raw" (medians of the per-repeat ratios);
// rss_mib is that VmRSS growth in every workload. --quick: few connections, short windows, one
// repeat (a CI smoke, whole run well under a minute). Linux only.
#include <sockframe/coro.hpp>
#include <sockframe/event_loop.hpp>
#include <sockframe/framed.hpp>
#include <sockframe/length_prefix.hpp>
#include <sockframe/listener.hpp>
#include <sockframe/options.hpp>
#include <sockframe/server.hpp>
#include <sockframe/socket.hpp>

#if SOCKFRAME_BENCH_HAVE_ASIO
#include <asio.hpp>
#endif

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace sf = sockframe;

namespace {

using clock_type = std::chrono::steady_clock;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "sockframe_server_bench: %s (errno %d: %s)\n", what, errno, std::strerror(errno));
    std::exit(1);
}

void pin_to(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<unsigned>(cpu), &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // best effort
}

void store_be32(unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v >> 24);
    p[1] = static_cast<unsigned char>(v >> 16);
    p[2] = static_cast<unsigned char>(v >> 8);
    p[3] = static_cast<unsigned char>(v);
}
std::uint32_t load_be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

long rss_kib() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long kib = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::strtol(line + 6, nullptr, 10);
    std::fclose(f);
    return kib;
}

constexpr std::size_t max_frame = 1 << 16;  // every server refuses (closes on) anything longer

// What a server tells the load generator.
struct server_stats {
    std::atomic<std::size_t> accepted{0};
};

// ---- the servers --------------------------------------------------------------------------------

/// A server runs serve() on its own thread until stop() (called from the load generator).
struct server {
    virtual ~server() = default;
    virtual void serve(int listen_fd, server_stats& stats) = 0;
    virtual void stop() = 0;
};

// (1) raw epoll ------------------------------------------------------------------------------------

class raw_server final : public server {
public:
    raw_server() {
        stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (stop_fd_ < 0) die("eventfd");
    }
    ~raw_server() override { close(stop_fd_); }
    void stop() override {
        std::uint64_t one = 1;
        if (write(stop_fd_, &one, sizeof one) < 0) die("eventfd write");
    }

    void serve(int listen_fd, server_stats& stats) override {
        struct conn {
            int fd = -1;
            std::string partial;  // bytes of a frame not complete yet (empty when idle)
            std::string unsent;   // replies a full socket did not take
        };
        std::vector<std::unique_ptr<conn>> conns;  // by fd
        const int ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) die("epoll_create1");
        auto add = [&](int fd, std::uint32_t events) {
            epoll_event ev{};
            ev.events = events;
            ev.data.fd = fd;
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl add");
        };
        auto modify = [&](int fd, std::uint32_t events) {
            epoll_event ev{};
            ev.events = events;
            ev.data.fd = fd;
            epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
        };
        add(listen_fd, EPOLLIN);
        add(stop_fd_, EPOLLIN);
        auto drop = [&](conn& c) {
            const int fd = c.fd;
            close(fd);  // leaves the epoll set
            conns[static_cast<std::size_t>(fd)].reset();
        };
        std::vector<unsigned char> in(256 * 1024), out(256 * 1024);
        std::vector<epoll_event> events(1024);
        for (bool running = true; running;) {
            const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
            if (n < 0) {
                if (errno == EINTR) continue;
                die("epoll_wait");
            }
            for (int i = 0; i < n; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
                if (fd == stop_fd_) {
                    running = false;
                    continue;
                }
                if (fd == listen_fd) {
                    for (;;) {
                        const int s = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                        if (s < 0) break;
                        set_nodelay(s);
                        if (conns.size() <= static_cast<std::size_t>(s))
                            conns.resize(static_cast<std::size_t>(s) + 1);
                        conns[static_cast<std::size_t>(s)] = std::make_unique<conn>();
                        conns[static_cast<std::size_t>(s)]->fd = s;
                        add(s, EPOLLIN);
                        stats.accepted.fetch_add(1, std::memory_order_relaxed);
                    }
                    continue;
                }
                if (!conns[static_cast<std::size_t>(fd)]) continue;
                conn& c = *conns[static_cast<std::size_t>(fd)];
                if (!c.unsent.empty()) {  // write-blocked: drain first, read again once empty
                    if (!(what & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
                    const ssize_t w = send(fd, c.unsent.data(), c.unsent.size(), MSG_NOSIGNAL);
                    if (w < 0 && errno != EAGAIN) {
                        drop(c);
                        continue;
                    }
                    if (w > 0) c.unsent.erase(0, static_cast<std::size_t>(w));
                    if (c.unsent.empty()) modify(fd, EPOLLIN);
                    continue;
                }
                // leftover first, then one read after it
                const std::size_t kept = c.partial.size();
                std::memcpy(in.data(), c.partial.data(), kept);
                const ssize_t r = recv(fd, in.data() + kept, in.size() - kept, 0);
                if (r <= 0) {
                    if (r < 0 && errno == EAGAIN) continue;
                    drop(c);
                    continue;
                }
                const std::size_t have = kept + static_cast<std::size_t>(r);
                std::size_t at = 0, out_len = 0;
                bool bad = false;
                while (have - at >= 4) {
                    const std::uint32_t len = load_be32(in.data() + at);
                    if (len > max_frame) {
                        bad = true;
                        break;
                    }
                    if (have - at - 4 < len) break;
                    if (out_len + 4 + len > out.size())
                        out.resize(std::max(out.size() * 2, out_len + 4 + len));
                    store_be32(out.data() + out_len, len);  // the reply a handler would make
                    std::memcpy(out.data() + out_len + 4, in.data() + at + 4, len);
                    out_len += 4 + len;
                    at += 4 + len;
                }
                if (bad) {
                    drop(c);
                    continue;
                }
                c.partial.assign(reinterpret_cast<const char*>(in.data() + at), have - at);
                if (out_len == 0) continue;
                const ssize_t w = send(fd, out.data(), out_len, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN) {
                    drop(c);
                    continue;
                }
                const std::size_t sent = w > 0 ? static_cast<std::size_t>(w) : 0;
                if (sent < out_len) {
                    c.unsent.assign(reinterpret_cast<const char*>(out.data() + sent), out_len - sent);
                    modify(fd, EPOLLOUT);  // back-pressure: no reading until the replies leave
                }
            }
        }
        for (auto& c : conns)
            if (c) close(c->fd);
        close(ep);
        close(listen_fd);
    }

private:
    int stop_fd_ = -1;
};

// (2) sockframe's framed_server ---------------------------------------------------------------------

class sockframe_server final : public server {
public:
    void stop() override { loop_.stop(); }

    void serve(int listen_fd, server_stats& stats) override {
        using listener = sf::tcp_listener_nb;
        using codec = sf::length_prefix<std::uint32_t>;
        sf::framed_server<listener, codec> echo(loop_, codec(max_frame));
        echo.on_open([&](auto&) { stats.accepted.fetch_add(1, std::memory_order_relaxed); });
        echo.on_frame([](auto& c, sf::const_buffer frame) { c.send(frame); });
        echo.listen(listener(listener::socket_type(listen_fd)));
        loop_.run();
    }  // the server closes its listener and connections

private:
    sf::event_loop loop_;
};

#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L
// (3) sockframe's coroutines ----------------------------------------------------------------------

class sockframe_coro_server final : public server {
public:
    // From the load generator's thread, once it has closed every connection: cancel the accepting
    // coroutine on the loop's thread, then stop the loop once every coroutine has ended (so that
    // every socket is closed and every coroutine frame freed).
    void stop() override {
        loop_.post([this] {
            stopping_ = true;
            cancel_.cancel();
            if (live_ == 0) loop_.stop();
        });
    }

    void serve(int listen_fd, server_stats& stats) override {
        sf::tcp_listener_nb listener(sf::tcp_listener_nb::socket_type{listen_fd});
        spawn(accept_all(listener, stats));
        loop_.run();
    }

private:
    using connection = sf::async_framed<sf::tcp_stream_nb, sf::length_prefix<std::uint32_t>>;

    // Ended by the client's close (the load generator closes every connection before stop()), or
    // by stop()'s cancel for a session whose close the loop has not seen yet.
    sf::task<void> session(sf::tcp_stream_nb socket) {
        connection conn{loop_, std::move(socket), sf::length_prefix<std::uint32_t>(max_frame)};
        const sf::cancel_token token = cancel_.token();  // one per session, as accept_all holds one
        std::error_code ec;
        while (auto frame = co_await conn.receive(sf::deadline{}, token, ec)) {
            co_await conn.send(*frame, sf::deadline{}, token, ec);
            if (ec) break;
        }
    }

    sf::task<void> accept_all(sf::tcp_listener_nb& listener, server_stats& stats) {
        const sf::cancel_token token = cancel_.token();
        for (;;) {
            std::error_code ec;
            auto [peer, from] = co_await sf::async_accept(loop_, listener, sf::deadline{}, token, ec);
            if (ec == std::errc::operation_canceled) co_return;
            if (ec) continue;
            std::error_code ignored;
            peer.set(sf::no_delay{true}, ignored);
            stats.accepted.fetch_add(1, std::memory_order_relaxed);
            spawn(session(std::move(peer)));
        }
    }

    void spawn(sf::task<void> t) {
        ++live_;
        sf::co_spawn(loop_, std::move(t), [this](std::exception_ptr) {
            if (--live_ == 0 && stopping_) loop_.stop();
        });
    }

    sf::event_loop loop_;
    sf::cancel_source cancel_;
    std::size_t live_ = 0;
    bool stopping_ = false;
};
#endif

// (4) sockframe's event loop + framed, by hand ------------------------------------------------------

class sockframe_loop_server final : public server {
public:
    void stop() override { loop_.stop(); }

    void serve(int listen_fd, server_stats& stats) override {
        using stream = sf::basic_socket<sf::ipv4, sf::stream, sf::non_blocking>;
        using connection = sf::framed<stream, sf::length_prefix<std::uint32_t>>;
        struct session {
            explicit session(stream s) : c(std::move(s), sf::length_prefix<std::uint32_t>(max_frame)) {}
            connection c;
            sf::io_watch watch;
            sf::interest want = sf::interest::read;
            std::size_t slot = 0;
        };
        std::vector<std::unique_ptr<session>> sessions;  // swap-and-pop; session::slot is its index
        auto close_session = [&](session& s) {
            s.watch.cancel();
            const std::size_t at = s.slot;
            if (at != sessions.size() - 1) {
                sessions[at] = std::move(sessions.back());
                sessions[at]->slot = at;
            }
            sessions.pop_back();  // destroys s (its callback is not touched after this)
        };
        auto on_ready = [&](session& s, sf::io_event ev) {
            connection& c = s.c;
            std::error_code ec;
            if (c.wants_write() && (ev.writable || ev.error || ev.hangup)) {
                c.flush(ec);
                if (ec) return close_session(s);
            }
            if (c.writable() && (ev.readable || ev.hangup || ev.error)) {
                auto echo = [&](sf::const_buffer frame) {
                    std::error_code qec;
                    c.queue(frame, qec);  // under the mark, the frame is taken whole
                };
                c.receive_batch(echo, sf::deadline{}, ec);
                if (ec && !sf::is_would_block(ec)) return close_session(s);
                if (!ec && c.at_end()) return close_session(s);
                if (c.wants_write()) {
                    c.flush(ec);  // one write for every reply of this wake-up
                    if (ec) return close_session(s);
                }
            }
            const sf::interest want = !c.wants_write() ? sf::interest::read
                                      : c.writable()   ? sf::interest::read | sf::interest::write
                                                       : sf::interest::write;
            if (want != s.want) {  // a system call: only on a change
                s.want = want;
                s.watch.modify(want);
            }
        };
        auto accept_all = [&](sf::io_event) {
            for (;;) {
                const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) return;
                set_nodelay(fd);
                sessions.push_back(std::make_unique<session>(stream(fd)));
                session* s = sessions.back().get();
                s->slot = sessions.size() - 1;
                s->watch = loop_.watch(fd, sf::interest::read,
                                       [s, &on_ready](sf::io_event ev) { on_ready(*s, ev); });
                stats.accepted.fetch_add(1, std::memory_order_relaxed);
            }
        };
        sf::io_watch listener = loop_.watch(listen_fd, sf::interest::read, accept_all);
        loop_.run();
        listener.cancel();
        for (auto& s : sessions) s->watch.cancel();
        sessions.clear();
        close(listen_fd);
    }

private:
    sf::event_loop loop_;
};

#if SOCKFRAME_BENCH_HAVE_ASIO
// (5) Asio, idiomatic ------------------------------------------------------------------------------

class asio_server final : public server {
public:
    void stop() override { io_.stop(); }

    void serve(int listen_fd, server_stats& stats) override {
        asio::ip::tcp::acceptor acceptor(io_, asio::ip::tcp::v4(), listen_fd);
        accept(acceptor, stats);
        io_.run();
    }  // the sessions go with io_ (the handlers that hold them are destroyed with it)

private:
    struct session : std::enable_shared_from_this<session> {
        explicit session(asio::ip::tcp::socket s) : socket(std::move(s)) {}
        asio::ip::tcp::socket socket;
        unsigned char header[4];
        std::vector<unsigned char> body;

        void read_header() {
            auto self = shared_from_this();
            asio::async_read(socket, asio::buffer(header), [self](std::error_code ec, std::size_t) {
                if (ec) return;
                const std::uint32_t len = load_be32(self->header);
                if (len > max_frame) return;
                self->body.resize(len);
                self->read_body();
            });
        }
        void read_body() {
            auto self = shared_from_this();
            asio::async_read(socket, asio::buffer(body), [self](std::error_code ec, std::size_t) {
                if (ec) return;
                self->write_frame();
            });
        }
        void write_frame() {
            auto self = shared_from_this();
            const std::array<asio::const_buffer, 2> frame{asio::buffer(header), asio::buffer(body)};
            asio::async_write(socket, frame, [self](std::error_code ec, std::size_t) {
                if (ec) return;
                self->read_header();
            });
        }
    };

    void accept(asio::ip::tcp::acceptor& acceptor, server_stats& stats) {
        acceptor.async_accept([this, &acceptor, &stats](std::error_code ec, asio::ip::tcp::socket s) {
            if (ec) return;
            s.set_option(asio::ip::tcp::no_delay(true), ec);
            stats.accepted.fetch_add(1, std::memory_order_relaxed);
            std::make_shared<session>(std::move(s))->read_header();
            accept(acceptor, stats);
        });
    }

    asio::io_context io_{1};
};

// (6) Asio, batched -----------------------------------------------------------------------------------

class asio_batched_server final : public server {
public:
    void stop() override { io_.stop(); }

    void serve(int listen_fd, server_stats& stats) override {
        asio::ip::tcp::acceptor acceptor(io_, asio::ip::tcp::v4(), listen_fd);
        accept(acceptor, stats);
        io_.run();
    }

private:
    struct session : std::enable_shared_from_this<session> {
        explicit session(asio::ip::tcp::socket s) : socket(std::move(s)) {}
        asio::ip::tcp::socket socket;
        // 64 KiB, not zeroed: only the pages reads reach become resident
        struct bytes {
            std::unique_ptr<unsigned char[]> p{new unsigned char[64 * 1024]};
            std::size_t n = 64 * 1024;
            unsigned char* data() noexcept { return p.get(); }
            std::size_t size() const noexcept { return n; }
            void resize(std::size_t m, std::size_t keep) {
                std::unique_ptr<unsigned char[]> q(new unsigned char[m]);
                std::memcpy(q.get(), p.get(), keep);
                p = std::move(q);
                n = m;
            }
        } buffer;
        std::size_t have = 0;
        std::size_t used = 0;  // bytes of complete frames being written back
        std::vector<asio::const_buffer> replies;

        void read() {
            auto self = shared_from_this();
            socket.async_read_some(asio::buffer(buffer.data() + have, buffer.size() - have),
                                   [self](std::error_code ec, std::size_t n) {
                                       if (ec) return;
                                       self->have += n;
                                       self->decode();
                                   });
        }
        void decode() {
            std::size_t at = 0;
            replies.clear();
            while (have - at >= 4) {
                const std::uint32_t len = load_be32(buffer.data() + at);
                if (len > max_frame) return;  // drop the connection
                if (have - at - 4 < len) {
                    // a frame bigger than the buffer: grow it (nothing refers into it yet)
                    if (at == 0 && 4 + std::size_t{len} > buffer.size())
                        buffer.resize(4 + std::size_t{len}, have);
                    break;
                }
                replies.push_back(asio::buffer(buffer.data() + at, 4 + std::size_t{len}));
                at += 4 + len;
            }
            used = at;
            if (replies.empty()) return read();
            auto self = shared_from_this();
            asio::async_write(socket, replies, [self](std::error_code ec, std::size_t) {
                if (ec) return;
                std::memmove(self->buffer.data(), self->buffer.data() + self->used, self->have - self->used);
                self->have -= self->used;
                self->used = 0;
                self->decode_or_read();
            });
        }
        void decode_or_read() {
            if (have >= 4 && have - 4 >= load_be32(buffer.data())) return decode();
            read();
        }
    };

    void accept(asio::ip::tcp::acceptor& acceptor, server_stats& stats) {
        acceptor.async_accept([this, &acceptor, &stats](std::error_code ec, asio::ip::tcp::socket s) {
            if (ec) return;
            s.set_option(asio::ip::tcp::no_delay(true), ec);
            stats.accepted.fetch_add(1, std::memory_order_relaxed);
            std::make_shared<session>(std::move(s))->read();
            accept(acceptor, stats);
        });
    }

    asio::io_context io_{1};
};
#endif

struct impl_info {
    const char* name;
    std::unique_ptr<server> (*make)();
};

const std::vector<impl_info>& all_impls() {
    static const std::vector<impl_info> impls = {
        {"raw", [] { return std::unique_ptr<server>(new raw_server); }},
        {"sockframe", [] { return std::unique_ptr<server>(new sockframe_server); }},
#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L
        {"sockframe_coro", [] { return std::unique_ptr<server>(new sockframe_coro_server); }},
#endif
        {"sockframe_loop", [] { return std::unique_ptr<server>(new sockframe_loop_server); }},
#if SOCKFRAME_BENCH_HAVE_ASIO
        {"asio", [] { return std::unique_ptr<server>(new asio_server); }},
        {"asio_batched", [] { return std::unique_ptr<server>(new asio_batched_server); }},
#endif
    };
    return impls;
}

// ---- the load generator -------------------------------------------------------------------------

struct workload {
    const char* name;
    std::size_t connections;     // open
    std::size_t active;          // of them, sending
    std::size_t payload;         // bytes per frame after the length
    std::size_t in_flight;       // frames per active connection
    bool one_at_a_time = false;  // --interleave, but too few descriptors for every server at once
};

struct config {
    bool quick = false, json = false;
    int repeats = 3;
    double seconds = 0.5;  // timed window
    double warmup = 0.1;
    double slice = 0;  // --interleave: seconds of measured time per turn (0: one server per run)
    std::vector<std::string> only, impls;
    std::size_t idle_connections = 10000;
    int client_cpu = 0, server_cpu = 1;
    bool child = false;  // --child: this process runs one server once and prints its result line
};

struct result {
    double frames_per_s = 0, p50_us = 0, p99_us = 0, rss_mib = 0;
    double server_cpu = 0, client_cpu = 0;  // busy share of the window (table only)
};

double cpu_seconds(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// One payload pattern for every frame: frame `seq` of connection `id` carries seq (8 bytes), id
/// (4 bytes), then pattern[seq % 251 ...]. The generator checks all of it.
struct pattern {
    std::vector<unsigned char> bytes;
    pattern() : bytes(max_frame + 256) {
        std::uint32_t x = 0x9e3779b9u;
        for (auto& b : bytes) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            b = static_cast<unsigned char>(x);
        }
    }
    void fill(unsigned char* p, std::size_t size, std::uint64_t seq, std::uint32_t id) const {
        unsigned char head[12];
        std::memcpy(head, &seq, 8);
        std::memcpy(head + 8, &id, 4);
        const std::size_t h = std::min<std::size_t>(size, 12);
        std::memcpy(p, head, h);
        if (size > h) std::memcpy(p + h, bytes.data() + seq % 251, size - h);
    }
    bool check(const unsigned char* p, std::size_t size, std::uint64_t seq, std::uint32_t id) const {
        unsigned char head[12];
        std::memcpy(head, &seq, 8);
        std::memcpy(head + 8, &id, 4);
        const std::size_t h = std::min<std::size_t>(size, 12);
        if (std::memcmp(p, head, h) != 0) return false;
        return size == h || std::memcmp(p + h, bytes.data() + seq % 251, size - h) == 0;
    }
};

struct client_conn {
    int fd = -1;
    std::uint32_t id = 0;
    std::uint64_t next_send = 0, next_recv = 0;
    std::string partial, unsent;
    std::vector<std::int64_t> sent_at;  // by seq % in_flight
};

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

int open_listener() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
    if (listen(fd, SOMAXCONN) != 0) die("listen");
    return fd;
}

sockaddr_in local_address(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return a;
}

/// One server and the generator's side of it: its listener, thread, connections and counts.
struct side {
    const impl_info* impl = nullptr;
    std::unique_ptr<server> srv;
    server_stats stats;
    int listen_fd = -1;
    sockaddr_in to{};
    std::thread thread;
    clockid_t clock{};
    std::vector<client_conn> conns;
    std::size_t outstanding = 0;  // frames sent, not yet echoed, all its connections
    std::uint64_t counted = 0;    // echoes received inside measured time
    std::vector<std::uint32_t> latencies;
    std::size_t samples = 0;
    double measured = 0;  // seconds of measured time
    double server_cpu = 0, client_cpu = 0;
    double measured_left = 0;  // seconds still to measure
    bool warmed = false;
    long rss_before = 0, rss_after = 0;
};

/// One timed run of `w` against a fresh server of each kind in `impls` (each on its own thread,
/// pinned to the server CPU). One server: a warm-up, then one window of cfg.seconds, as before.
/// Several (--interleave): the generator drives one server at a time, in turns of cfg.slice
/// seconds (each turn drained before the next begins, the others idle in their waits) until each
/// has had cfg.seconds of measured time, so that every server meets the same machine, second by
/// second. Memory: one server, VmRSS growth from before its connections open to the end of its
/// window; several, the servers are set up one after another, each measured from before its
/// connections open to the end of its first turn (warm-up included).
std::vector<result> run_sides(const config& cfg, const workload& w,
                              const std::vector<const impl_info*>& impls, const pattern& pat) {
    std::vector<side> sides(impls.size());
    const std::size_t frame = 4 + w.payload;
    std::vector<unsigned char> in(256 * 1024), out(frame * w.in_flight);
    std::vector<epoll_event> events(1024);
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    // Everything the generator needs, allocated before any memory baseline (the samples touched
    // now, so that they do not count as server memory).
    for (std::size_t s = 0; s < sides.size(); ++s) {
        side& sd = sides[s];
        sd.impl = impls[s];
        sd.conns.resize(w.connections);
        for (std::size_t i = 0; i < w.active; ++i) {
            sd.conns[i].sent_at.assign(w.in_flight, 0);
            sd.conns[i].partial.reserve(w.payload + 4);
        }
        sd.latencies.assign(std::size_t{1} << (sides.size() > 1 ? 20 : 22), 0);
        sd.measured_left = cfg.seconds;
    }

    auto start_server = [&](side& sd) {
        sd.srv = sd.impl->make();
        sd.listen_fd = open_listener();
        sd.to = local_address(sd.listen_fd);
        server* srv = sd.srv.get();
        server_stats* stats = &sd.stats;
        const int fd = sd.listen_fd;
        const int cpu = cfg.server_cpu;
        sd.thread = std::thread([srv, stats, fd, cpu] {
            pin_to(cpu);
            srv->serve(fd, *stats);
        });
        pthread_getcpuclockid(sd.thread.native_handle(), &sd.clock);
    };
    auto open_connections = [&](side& sd, std::size_t s) {
        for (std::size_t i = 0; i < w.connections; ++i) {
            // keep the server's accept queue short: wait while it is behind (a busy machine may
            // starve the server thread for a while, hence a deadline rather than a count)
            if (i > sd.stats.accepted.load(std::memory_order_relaxed) + 512) {
                const auto limit = clock_type::now() + std::chrono::seconds(20);
                while (i > sd.stats.accepted.load(std::memory_order_relaxed) + 512) {
                    if (clock_type::now() > limit) die("the server does not accept");
                    std::this_thread::yield();
                }
            }
            const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) die("client socket (raise the descriptor limit)");
            if (connect(fd, reinterpret_cast<const sockaddr*>(&sd.to), sizeof sd.to) != 0) die("connect");
            set_nodelay(fd);
            fcntl(fd, F_SETFL, O_NONBLOCK);
            sd.conns[i].fd = fd;
            sd.conns[i].id = static_cast<std::uint32_t>(i);
        }
        const auto limit = clock_type::now() + std::chrono::seconds(20);
        while (sd.stats.accepted.load() < w.connections) {
            if (clock_type::now() > limit) die("the server did not accept every connection");
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        for (std::size_t i = 0; i < w.active; ++i) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = static_cast<std::uint64_t>(s) << 32 | i;
            if (epoll_ctl(ep, EPOLL_CTL_ADD, sd.conns[i].fd, &ev) != 0) die("epoll_ctl");
        }
    };

    // The turn in progress: whose, whether it still sends, when it began, stops sending and starts
    // counting (after its lead-in: the warm-up on a server's first turn, else a short ramp).
    std::size_t cur = 0;
    bool sending = false;
    std::int64_t turn_begin = 0, count_from = 0, turn_end = 0;
    double cpu0_server = 0, cpu0_client = 0;

    // Tops a connection up to w.in_flight frames, in one write.
    auto top_up = [&](side& sd, std::size_t s, client_conn& c) {
        if (!c.unsent.empty()) return;  // still blocked: EPOLLOUT carries on
        const std::uint64_t room = w.in_flight - (c.next_send - c.next_recv);
        if (!sending || s != cur || room == 0) return;
        const std::int64_t t = now_ns();
        std::size_t len = 0;
        for (std::uint64_t k = 0; k < room; ++k) {
            store_be32(out.data() + len, static_cast<std::uint32_t>(w.payload));
            pat.fill(out.data() + len + 4, w.payload, c.next_send, c.id);
            c.sent_at[c.next_send % w.in_flight] = t;
            ++c.next_send;
            len += frame;
        }
        sd.outstanding += room;
        const ssize_t n = send(c.fd, out.data(), len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) die("client send");
        const std::size_t sent = n > 0 ? static_cast<std::size_t>(n) : 0;
        if (sent < len) {
            c.unsent.assign(reinterpret_cast<const char*>(out.data() + sent), len - sent);
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT;
            ev.data.u64 =
                static_cast<std::uint64_t>(s) << 32 | static_cast<std::uint64_t>(&c - sd.conns.data());
            epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
    };
    auto begin_turn = [&](std::size_t s) {
        side& sd = sides[s];
        cur = s;
        sending = true;
        const double measure = sides.size() > 1 ? std::min(cfg.slice, sd.measured_left) : sd.measured_left;
        const double lead = sd.warmed ? std::min(0.01, 0.2 * measure) : cfg.warmup;
        turn_begin = now_ns();
        count_from = turn_begin + static_cast<std::int64_t>(lead * 1e9);
        turn_end = count_from + static_cast<std::int64_t>(measure * 1e9);
        cpu0_server = -1;  // read when counting starts
        for (std::size_t i = 0; i < w.active; ++i) top_up(sd, s, sd.conns[i]);
    };
    // Runs the turn begun last until it has ended and drained.
    auto run_turn = [&] {
        side& sd = sides[cur];
        const std::int64_t give_up = turn_end + 10'000'000'000;
        while (sending || sd.outstanding > 0) {
            const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
            if (n < 0 && errno != EINTR) die("client epoll_wait");
            std::int64_t t = now_ns();
            if (cpu0_server < 0 && t >= count_from) {
                cpu0_server = cpu_seconds(sd.clock);
                cpu0_client = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
            }
            if (sending && t >= turn_end) {
                sending = false;
                const double span = static_cast<double>(turn_end - count_from) * 1e-9;
                sd.measured += span;
                sd.measured_left -= span;
                sd.server_cpu += cpu_seconds(sd.clock) - cpu0_server;
                sd.client_cpu += cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0_client;
            }
            if (t > give_up) die("echoes missing 10 s after the window");
            for (int e = 0; e < n; ++e) {
                const std::uint64_t key = events[static_cast<std::size_t>(e)].data.u64;
                const std::size_t s = static_cast<std::size_t>(key >> 32);
                side& owner = sides[s];
                client_conn& c = owner.conns[key & 0xffffffffu];
                const std::uint32_t what = events[static_cast<std::size_t>(e)].events;
                if ((what & EPOLLOUT) && !c.unsent.empty()) {
                    const ssize_t sent = send(c.fd, c.unsent.data(), c.unsent.size(), MSG_NOSIGNAL);
                    if (sent < 0 && errno != EAGAIN) die("client send");
                    if (sent > 0) c.unsent.erase(0, static_cast<std::size_t>(sent));
                    if (c.unsent.empty()) {
                        epoll_event ev{};
                        ev.events = EPOLLIN;
                        ev.data.u64 = key;
                        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                    }
                }
                if (!(what & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
                const std::size_t kept = c.partial.size();
                std::memcpy(in.data(), c.partial.data(), kept);
                const ssize_t r = recv(c.fd, in.data() + kept, in.size() - kept, 0);
                if (r == 0) {
                    std::fprintf(stderr, "%s/%s: ", w.name, owner.impl->name);
                    errno = 0;
                    die("the server closed a connection");
                }
                if (r < 0) {
                    if (errno == EAGAIN) continue;
                    die("client recv");
                }
                t = now_ns();
                const bool counting = s == cur && t >= count_from && t <= turn_end;
                const std::size_t have = kept + static_cast<std::size_t>(r);
                std::size_t at = 0;
                while (have - at >= frame) {
                    if (load_be32(in.data() + at) != w.payload ||
                        !pat.check(in.data() + at + 4, w.payload, c.next_recv, c.id)) {
                        std::fprintf(stderr, "%s/%s: connection %u frame %llu: ", w.name, owner.impl->name,
                                     c.id, static_cast<unsigned long long>(c.next_recv));
                        errno = 0;
                        die("wrong echo");
                    }
                    if (counting) {
                        ++owner.counted;
                        const std::int64_t rtt = t - c.sent_at[c.next_recv % w.in_flight];
                        if (owner.samples < owner.latencies.size())
                            owner.latencies[owner.samples++] =
                                static_cast<std::uint32_t>(std::min<std::int64_t>(rtt, 0xffffffff));
                    }
                    ++c.next_recv;
                    --owner.outstanding;
                    at += frame;
                }
                if (have - at >= 4 && load_be32(in.data() + at) != w.payload) {
                    errno = 0;
                    die("wrong echo length");
                }
                c.partial.assign(reinterpret_cast<const char*>(in.data() + at), have - at);
                top_up(owner, s, c);
            }
        }
        sd.warmed = true;
    };

    // Each server set up, and given its first turn, in order; then turns in order until every
    // server has had its measured time.
    for (auto& sd : sides) start_server(sd);  // what a server allocates to start is not counted
    for (std::size_t s = 0; s < sides.size(); ++s) {
        malloc_trim(0);
        sides[s].rss_before = rss_kib();
        open_connections(sides[s], s);
        begin_turn(s);
        run_turn();
        if (sides.size() > 1) sides[s].rss_after = rss_kib();
    }
    if (sides.size() == 1) sides[0].rss_after = rss_kib();
    for (bool more = true; more;) {
        more = false;
        for (std::size_t s = 0; s < sides.size(); ++s) {
            if (sides[s].measured_left <= 1e-9) continue;
            begin_turn(s);
            run_turn();
            more = true;
        }
    }
    if (std::getenv("SFB_TOTAL")) {
        std::uint64_t total = 0;
        for (auto& sd : sides)
            for (auto& c : sd.conns) total += c.next_recv;
        std::fprintf(stderr, "TOTAL %llu\n", static_cast<unsigned long long>(total));
    }

    std::vector<result> results;
    for (auto& sd : sides) {
        for (auto& c : sd.conns) close(c.fd);
        sd.srv->stop();
        sd.thread.join();
        result res;
        res.frames_per_s = sd.measured > 0 ? static_cast<double>(sd.counted) / sd.measured : 0;
        sd.latencies.resize(sd.samples);
        if (!sd.latencies.empty()) {
            auto pct = [&](double q) {
                const auto k = static_cast<std::size_t>(q * static_cast<double>(sd.latencies.size() - 1));
                std::nth_element(sd.latencies.begin(), sd.latencies.begin() + static_cast<std::ptrdiff_t>(k),
                                 sd.latencies.end());
                return sd.latencies[k] / 1000.0;
            };
            res.p50_us = pct(0.50);
            res.p99_us = pct(0.99);
        }
        res.rss_mib = static_cast<double>(std::max(0L, sd.rss_after - sd.rss_before)) / 1024.0;
        if (sd.measured > 0) {
            res.server_cpu = sd.server_cpu / sd.measured;
            res.client_cpu = sd.client_cpu / sd.measured;
        }
        results.push_back(res);
    }
    close(ep);
    return results;
}

/// A remark about the run as a whole, on stderr, from the parent only: each --child run would
/// repeat it.
__attribute__((format(printf, 2, 3))) void remark(const config& cfg, const char* format, ...) {
    if (cfg.child) return;
    std::va_list args;
    va_start(args, format);
    std::fputs("sockframe_server_bench: ", stderr);
    std::vfprintf(stderr, format, args);
    va_end(args);
}

/// The line a --child run prints on stdout, and its parent reads back.
constexpr const char* result_tag = "SFB_RESULT";

/// One run of `w` against `impl` in a fresh process (this program, exec'd again with --child): the
/// server's memory is then its own, not what the servers before it left in this process's heap.
result run_in_child(const config& cfg, const workload& w, const impl_info& impl) {
    char seconds[32], idle[32];
    std::snprintf(seconds, sizeof seconds, "%.6f", cfg.seconds);
    std::snprintf(idle, sizeof idle, "%zu", w.connections);
    std::vector<const char*> args = {
        "sockframe_server_bench", "--child", "--only", w.name, "--impl", impl.name, "--seconds", seconds,
        "--idle-connections",     idle};
    if (cfg.quick) args.push_back("--quick");
    args.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) die("pipe2");
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);  // dup2 clears close-on-exec on the copy
        execv("/proc/self/exe", const_cast<char* const*>(args.data()));
        _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[512];
    for (;;) {
        const ssize_t n = read(out[0], buf, sizeof buf);
        if (n > 0)
            text.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR)
            break;
    }
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = 0;
        die("a server's run in its own process failed");
    }
    result r;
    const std::size_t at = text.find(result_tag);
    if (at == std::string::npos ||
        std::sscanf(text.c_str() + at + std::strlen(result_tag), "%lf %lf %lf %lf %lf %lf", &r.frames_per_s,
                    &r.p50_us, &r.p99_us, &r.rss_mib, &r.server_cpu, &r.client_cpu) != 6) {
        errno = 0;
        die("a server's run in its own process printed no result");
    }
    return r;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool wanted(const std::vector<std::string>& list, const char* name) {
    return list.empty() || std::find(list.begin(), list.end(), name) != list.end();
}

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: sockframe_server_bench [--quick] [--json] [--repeats N] [--seconds S]\n"
                 "         [--only WORKLOAD]... [--impl IMPL]... [--idle-connections N] [--interleave S]\n");
    std::exit(2);
}

/// Raises the soft descriptor limit to the hard one (and the hard one to `want` where this process
/// may: root); returns the limit in force.
std::size_t raise_fd_limit(std::size_t want) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        rlimit more{static_cast<rlim_t>(want), static_cast<rlim_t>(want)};
        if (setrlimit(RLIMIT_NOFILE, &more) == 0) getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : static_cast<std::size_t>(rl.rlim_cur);
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    // Memory is measured as VmRSS growth, so every run must start from the same allocator state:
    // one arena for every thread (a server thread's own arena would keep its freed top chunk
    // resident for the next server to reuse unseen: malloc_trim trims only the main arena's top)
    // and a fixed mmap threshold (glibc's threshold otherwise rises after the first large free).
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    config cfg;
    bool seconds_set = false, repeats_set = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--quick")
            cfg.quick = true;
        else if (a == "--json")
            cfg.json = true;
        else if (a == "--repeats")
            cfg.repeats = std::max(1, std::atoi(value().c_str())), repeats_set = true;
        else if (a == "--seconds")
            cfg.seconds = std::atof(value().c_str()), seconds_set = true;
        else if (a == "--only")
            cfg.only.push_back(value());
        else if (a == "--impl")
            cfg.impls.push_back(value());
        else if (a == "--interleave")
            cfg.slice = std::atof(value().c_str());
        else if (a == "--idle-connections")
            cfg.idle_connections = static_cast<std::size_t>(std::atol(value().c_str()));
        else if (a == "--child")
            cfg.child = true;
        else
            usage();
    }
    if (cfg.seconds <= 0 || cfg.seconds > 10 || cfg.slice < 0 || cfg.slice > cfg.seconds) usage();
    if (cfg.quick) {
        if (!seconds_set) cfg.seconds = 0.1;
        if (!repeats_set) cfg.repeats = 1;
        cfg.warmup = 0.02;
    }
    const unsigned cpus = std::thread::hardware_concurrency();
    if (cpus < 2) {
        cfg.client_cpu = cfg.server_cpu = -1;
        remark(cfg, "fewer than 2 CPUs, threads not pinned\n");
    }
    pin_to(cfg.client_cpu);

    std::vector<workload> workloads = {
        {"pingpong_512", 1000, 1000, 512, 1}, {"pingpong_64", 100, 100, 64, 1}, {"stream_512", 4, 4, 512, 64},
        {"stream_16", 4, 4, 16, 256},         {"idle_10k", 10000, 100, 64, 1},
    };
    std::vector<const impl_info*> impls;
    for (const auto& i : all_impls())
        if (wanted(cfg.impls, i.name)) impls.push_back(&i);
    if (impls.empty()) usage();
    // Interleaved, every server's connections are open at once.
    const std::size_t together = cfg.slice > 0 ? impls.size() : 1;
    const std::size_t fd_limit = raise_fd_limit(together * 2 * 10000 + 4096);
    for (auto& w : workloads) {
        if (cfg.quick) {
            w.connections = std::min<std::size_t>(w.connections, 50);
            w.active = std::min(w.active, w.connections);
            if (std::string(w.name) == "idle_10k") w.connections = 1000, w.active = 20;
        } else if (std::string(w.name) == "idle_10k") {
            w.connections = cfg.idle_connections;
            w.active = std::min<std::size_t>(w.active, w.connections);
        }
        // both ends of every connection live in this process, plus a few descriptors of our own
        std::size_t fit = fd_limit > 64 ? (fd_limit - 64) / 2 / together / 100 * 100 : 0;
        if (w.connections > fit && together > 1) {
            // interleaved, every server's connections at once do not fit: this workload runs its
            // servers one after another instead, with as many connections as one may have
            remark(cfg,
                   "%s: RLIMIT_NOFILE %zu is too low for %zu servers at once: they run one after another\n",
                   w.name, fd_limit, together);
            w.one_at_a_time = true;
            fit = fd_limit > 64 ? (fd_limit - 64) / 2 / 100 * 100 : 0;
        }
        if (w.connections > fit) {
            // only the idle workload may run with fewer connections (never fewer than 1000, or
            // than ten times its active ones under --quick); the others need all of theirs
            const bool idle = std::string(w.name) == "idle_10k";
            const std::size_t least = cfg.quick ? 10 * w.active : 1000;
            if (!idle || fit < least) {
                remark(cfg, "%s skipped: RLIMIT_NOFILE %zu is too low for %zu connections\n", w.name,
                       fd_limit, w.connections);
                w.connections = 0;
            } else {
                remark(cfg, "%s: RLIMIT_NOFILE %zu allows %zu connections, not %zu\n", w.name, fd_limit, fit,
                       w.connections);
                w.connections = fit;
            }
        }
    }

#if !SOCKFRAME_BENCH_HAVE_ASIO
    remark(cfg, "built without asio.hpp (Debian: libasio-dev): no Asio rows\n");
#endif

    const pattern pat;
    if (cfg.child) {
        // One workload, one server, one run, from run_in_child: the result on stdout.
        for (const auto& w : workloads) {
            if (w.connections == 0 || !wanted(cfg.only, w.name)) continue;
            const result r = run_sides(cfg, w, {impls.front()}, pat).front();
            std::printf("%s %.6f %.6f %.6f %.6f %.6f %.6f\n", result_tag, r.frames_per_s, r.p50_us, r.p99_us,
                        r.rss_mib, r.server_cpu, r.client_cpu);
            return 0;
        }
        return 1;
    }
    struct row {
        const workload* w;
        const impl_info* impl;
        std::vector<result> runs;
        std::vector<double> ratio, p99_ratio;
    };
    std::vector<row> rows;
    for (const auto& w : workloads) {
        if (w.connections == 0 || !wanted(cfg.only, w.name)) continue;
        const std::size_t first = rows.size();
        for (auto* i : impls) rows.push_back({&w, i, {}, {}, {}});
        for (int rep = 0; rep < cfg.repeats; ++rep) {
            std::vector<std::size_t> order;
            for (std::size_t k = first; k < rows.size(); ++k) order.push_back(k);
            if (rep % 2) std::reverse(order.begin(), order.end());
            auto report = [&](std::size_t k) {
                if (!cfg.json)
                    std::fprintf(stderr, "  %-13s %-13s %12.0f frames/s %9.3f MiB\n", w.name,
                                 rows[k].impl->name, rows[k].runs.back().frames_per_s,
                                 rows[k].runs.back().rss_mib);
            };
            if (cfg.slice > 0 && !w.one_at_a_time) {
                std::vector<const impl_info*> together;
                for (std::size_t k : order) together.push_back(rows[k].impl);
                const std::vector<result> got = run_sides(cfg, w, together, pat);
                for (std::size_t j = 0; j < order.size(); ++j) {
                    rows[order[j]].runs.push_back(got[j]);
                    report(order[j]);
                }
            } else {
                for (std::size_t k : order) {
                    rows[k].runs.push_back(run_in_child(cfg, w, *rows[k].impl));
                    report(k);
                }
            }
            const row* raw = nullptr;
            for (std::size_t k = first; k < rows.size(); ++k)
                if (std::string(rows[k].impl->name) == "raw") raw = &rows[k];
            if (!raw) continue;
            for (std::size_t k = first; k < rows.size(); ++k) {
                const result& a = rows[k].runs.back();
                const result& b = raw->runs.back();
                if (b.frames_per_s > 0) rows[k].ratio.push_back(a.frames_per_s / b.frames_per_s);
                if (b.p99_us > 0) rows[k].p99_ratio.push_back(a.p99_us / b.p99_us);
            }
        }
    }

    auto med = [](const std::vector<result>& runs, double result::*field) {
        std::vector<double> v;
        for (const auto& r : runs) v.push_back(r.*field);
        return median(v);
    };
    if (cfg.json) {
        std::printf("[");
        for (std::size_t k = 0; k < rows.size(); ++k) {
            const row& r = rows[k];
            const double rss = med(r.runs, &result::rss_mib);
            std::printf(
                "%s\n  {\"workload\": \"%s\", \"impl\": \"%s\", \"frames_per_s\": %.0f, \"p50_us\": %.2f, "
                "\"p99_us\": %.2f, \"rss_mib\": %.3f, \"connections\": %zu, \"kib_per_conn\": %.3f, "
                "\"server_busy\": %.2f",
                k ? "," : "", r.w->name, r.impl->name, med(r.runs, &result::frames_per_s),
                med(r.runs, &result::p50_us), med(r.runs, &result::p99_us), rss, r.w->connections,
                rss * 1024.0 / static_cast<double>(r.w->connections), med(r.runs, &result::server_cpu));
            // the medians of the per-repeat ratios to raw (as the table's "x raw" and "p99/raw")
            if (!r.ratio.empty()) std::printf(", \"ratio_to_raw\": %.3f", median(r.ratio));
            if (!r.p99_ratio.empty()) std::printf(", \"p99_ratio_to_raw\": %.3f", median(r.p99_ratio));
            std::printf("}");
        }
        std::printf("\n]\n");
        return 0;
    }
    std::printf("sockframe_server_bench: %d repeat(s), %.2f s windows, client CPU %d, server CPU %d\n",
                cfg.repeats, cfg.seconds, cfg.client_cpu, cfg.server_cpu);
    std::printf("%-13s %-18s %-13s %12s %7s %9s %9s %8s %9s %10s %5s %5s\n", "workload", "conns/active x B",
                "impl", "frames/s", "x raw", "p50 us", "p99 us", "p99/raw", "RSS MiB", "KiB/conn", "srv%",
                "gen%");
    for (const row& r : rows) {
        char shape[64];
        std::snprintf(shape, sizeof shape, "%zu/%zu x %zu x%zu", r.w->connections, r.w->active, r.w->payload,
                      r.w->in_flight);
        const double rss = med(r.runs, &result::rss_mib);
        std::printf("%-13s %-18s %-13s %12.0f %7.3f %9.1f %9.1f %8.3f %9.2f %10.2f %5.0f %5.0f\n", r.w->name,
                    shape, r.impl->name, med(r.runs, &result::frames_per_s), median(r.ratio),
                    med(r.runs, &result::p50_us), med(r.runs, &result::p99_us), median(r.p99_ratio), rss,
                    rss * 1024.0 / static_cast<double>(r.w->connections),
                    100 * med(r.runs, &result::server_cpu), 100 * med(r.runs, &result::client_cpu));
    }
    return 0;
}
