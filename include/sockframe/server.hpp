// SPDX-License-Identifier: MIT
#pragma once
/// framed_server<Listener, Codec>: a framed server (and client) on an event_loop. It accepts on
/// non-blocking listeners (TCP, Unix, or any_listener for both), keeps one non-blocking framed
/// connection per peer and calls three handlers: on_open(connection&), on_frame(connection&,
/// const_buffer payload) and on_close(connection&, std::error_code why).
///
/// Receiving: every wake-up of a connection hands every buffered frame to on_frame before the
/// next system call (framed::receive_batch). Sending: connection::send() only queues; what a
/// wake-up queued leaves in one write once the batch is over (replies are coalesced), and what
/// the socket does not take waits for writability (write interest only while something waits).
///
/// Back-pressure: once a connection's outgoing queue reaches its high-water mark
/// (framed::writable() false) the server stops reading it (the frames already buffered stay
/// buffered) and resumes once the queue has drained to the low-water mark: a peer that does not
/// read cannot make the server buffer without bound (at most the mark plus what one on_frame
/// queues).
///
/// Limits (server_options): idle timeout, a deadline for a frame that has started arriving
/// (slowloris), maximum connections (accepted and closed at once beyond it), accept back-off when
/// accept fails for want of descriptors or memory (EMFILE, ENFILE: the listener is not watched
/// for a while; connections are served meanwhile), graceful stop (no more accepts, queued replies
/// flushed within a deadline, then closed). One periodic sweep timer checks the time limits; no
/// timer is armed per frame.
///
/// Memory: a connection with no partial frame and nothing queued holds only its socket and its
/// bookkeeping. The framed object that decodes and queues for it (with its receive and send
/// buffers) is lent from a small per-server pool while it has work, and given back once the
/// wake-up is over; the pool's buffers are freed after a sweep interval without use, as are the
/// buffers of a connection idle with a partial frame (framed::release_receive_buffer,
/// release_send_buffer).
///
/// Many cores: one loop and one server per thread, each listening on the same port with
/// listen_options::reuse_port (SO_REUSEPORT, Linux and the BSDs); the kernel spreads new
/// connections over the listeners. Where the OS has no SO_REUSEPORT (Windows; reuse_port gives
/// errc::not_supported), or when asked, one server accepts and hands the connections round-robin
/// to the others (listen(listener, servers)), which adopt them on their own loops.
///
/// Thread safety: a server belongs to its loop's thread. Handlers run on that thread and may call
/// every member of any connection of the server. A connection reference is valid until on_close
/// returns.

#include <sockframe/detail/function.hpp>
#include <sockframe/detail/owned.hpp>
#include <sockframe/config.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/error.hpp>
#include <sockframe/event_loop.hpp>
#include <sockframe/framed.hpp>
#include <sockframe/listener.hpp>
#include <sockframe/options.hpp>
#include <sockframe/proxy_protocol.hpp>
#include <sockframe/socket.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {
template <typename S, typename = void>
struct has_pending_input : std::false_type {};
template <typename S>
struct has_pending_input<S, std::void_t<decltype(std::declval<const S&>().pending_input())>>
    : std::true_type {};
/// Bytes an endpoint holds above the socket, readable without the socket becoming readable (a TLS
/// stream's decrypted bytes); 0 for plain sockets.
template <typename S>
std::size_t pending_input(const S& s) noexcept {
    if constexpr (has_pending_input<S>::value) {
        return s.pending_input();
    } else {
        (void)s;
        return 0;
    }
}
/// Whether `Stream` is a protocol layered over a socket that begins after the PROXY header (a
/// TLS stream): the header is read from next_layer() in clear text, and the bytes read past it
/// are handed to the layer with feed_received(), not to the codec.
template <typename Stream, typename = void>
struct reads_proxy_below : std::false_type {};
template <typename Stream>
struct reads_proxy_below<Stream,
                         std::void_t<decltype(std::declval<Stream&>().next_layer().read_some(
                                         std::declval<mutable_buffer>(), std::declval<std::error_code&>())),
                                     decltype(std::declval<Stream&>().feed_received(
                                         std::declval<const_buffer>(), std::declval<std::error_code&>()))>>
    : std::true_type {};

}  // namespace detail

/// Whether a server reads a PROXY protocol header (proxy_protocol.hpp) at the start of each
/// connection from a trusted proxy (server_options::trusted_proxies).
enum class proxy_protocol_mode : std::uint8_t {
    /// No header is read: every byte is the codec's.
    off,
    /// A trusted peer may start with a header (v1 or v2); without one it is a direct connection.
    /// Other peers are direct connections (what they send is the codec's, a header included).
    accept,
    /// A trusted peer must start with a header; other peers are refused (closed,
    /// std::errc::permission_denied), as is a trusted one without a header (malformed_frame).
    require,
};

/// Limits and tuning of a framed_server. A zero duration or count means "no limit" / "default".
struct server_options {
    /// Most connections open at once (accepted and connecting); beyond it a new one is accepted
    /// and closed at once. 0: no limit.
    std::size_t max_connections = 0;
    /// Close a connection (std::errc::timed_out) that has received no frame and sent nothing for
    /// this long. 0: never.
    std::chrono::milliseconds idle_timeout{0};
    /// Close a connection (std::errc::timed_out) whose frame has started arriving but is not
    /// complete after this long (slowloris). Not applied while reading is paused. 0: never.
    std::chrono::milliseconds frame_timeout{0};
    /// How long connection::close() waits for the queued replies to leave before closing anyway.
    std::chrono::milliseconds close_timeout{5000};
    /// How long accepting pauses after accept failed for want of resources (EMFILE, ENFILE, ...).
    std::chrono::milliseconds accept_backoff{100};
    /// The period of the sweep that applies the time limits and releases idle buffers. 0: a
    /// quarter of the shortest limit, between 10 ms and 1 s.
    std::chrono::milliseconds sweep_interval{0};
    /// Outgoing high-water mark of every connection (reading pauses there). 0: framed's default.
    std::size_t high_water_mark = 0;
    /// Reading resumes once the queue has drained to this. 0: half the high-water mark.
    std::size_t low_water_mark = 0;
    /// First receive buffer of a connection (framed::set_initial_receive_capacity). 0: framed's
    /// default.
    std::size_t initial_receive_capacity = 0;
    /// Give back the buffers of connections idle for a sweep interval.
    bool release_idle_buffers = true;
    /// Set TCP_NODELAY on TCP connections (replies are coalesced already).
    bool no_delay = true;
    /// Most connections accepted per wake-up of a listener (the others wait for the next one).
    std::size_t accepts_per_wakeup = 256;
    /// PROXY protocol headers: off, accepted from trusted proxies, or required.
    proxy_protocol_mode proxy_protocol = proxy_protocol_mode::off;
    /// The peers whose PROXY headers are believed (default: nobody).
    proxy_trust trusted_proxies;
    /// Longest PROXY header accepted (v2 with TLVs); a longer one is frame_too_large.
    std::size_t max_proxy_header = 4096;
};

/// A framed server and client on a `Loop` (default event_loop). `Listener` is a non-blocking
/// stream listener (tcp_listener_nb, unix_listener_nb, any_listener_nb...); its socket_type is the
/// connections' endpoint, also for connect(). `Codec` is copied from the prototype given to the
/// constructor for every connection. See the top of this header.
template <typename Listener, typename Codec, typename Loop = event_loop>
class framed_server {
public:
    /// The listener type.
    using listener_type = Listener;
    /// The connections' endpoint type.
    using stream_type = typename Listener::socket_type;
    /// The peers' address type.
    using address_type = typename Listener::address_type;
    /// The codec type.
    using codec_type = Codec;
    /// The event loop type.
    using loop_type = Loop;
    /// The framed connection type underneath a connection.
    using framed_type = framed<stream_type, Codec>;
    /// The clock of every time limit.
    using clock = deadline::clock;

    static_assert(!detail::endpoint_traits<stream_type>::is_blocking,
                  "framed_server: use a non-blocking listener (_nb)");

private:
    using io_watch_type = typename Loop::io_watch;
    using timer_type = typename Loop::timer;

public:
    /// One peer of the server, as its handlers see it.
    class connection {
    public:
        connection(const connection&) = delete;
        connection& operator=(const connection&) = delete;

        /// Queues `payload` as one frame (never blocks, never writes at once: what a wake-up queued
        /// leaves in one write after it). False with `ec` set when refused: errc::buffer_full at
        /// the high-water mark, std::errc::not_connected once closing or closed.
        bool send(const_buffer payload, std::error_code& ec) {
            if (state_ != state::open) {
                ec = std::make_error_code(std::errc::not_connected);
                return false;
            }
            server_->attach(*this);
            io_->queue(payload, ec);
            if (ec) return false;
            return queued();
        }
        /// The same, the error dropped: true when the frame was queued.
        bool send(const_buffer payload) {
            // the common case first: open, lent a framed object, and the frame fits in place
            if (state_ == state::open && io_ && io_->try_queue(payload)) return queued();
            std::error_code ec = detail::no_error();  // no call into the runtime
            return send(payload, ec);
        }
        /// The same as send(): the frame waits for the end of the wake-up.
        bool queue(const_buffer payload, std::error_code& ec) { return send(payload, ec); }
        /// Stops reading, sends what is queued (within server_options::close_timeout), then closes;
        /// on_close is told `why` (default: no error).
        void close(std::error_code why = {}) {
            if (state_ != state::open) return;
            state_ = state::draining;
            reason_ = why;
            closing_since_ = clock::now();
            server_->touch(*this);
        }
        /// Closes at once, dropping what is queued; on_close is told `why`.
        void abort(std::error_code why = std::make_error_code(std::errc::connection_aborted)) {
            if (state_ == state::closed || abort_) return;
            abort_ = true;
            reason_ = why;
            server_->touch(*this);
        }
        /// Whether the connection is open (or connecting) and not closing.
        bool is_open() const noexcept {
            return (state_ == state::open || state_ == state::connecting) && !abort_;
        }
        /// The peer's address (accepted: as accept gave it; connected: the address connected to).
        const address_type& peer() const noexcept { return peer_; }
        /// The PROXY header the connection began with (server_options::proxy_protocol), or nullptr
        /// for a direct connection. Its source() is the original client when has_addresses();
        /// its TLV views stay valid until on_close returns.
        const proxy_header* proxy() const noexcept {
            return proxy_ && proxy_->done && proxy_->used ? &proxy_->header : nullptr;
        }
        /// A number unique within the server (in the order connections were made, from 1).
        std::uint64_t id() const noexcept { return id_; }
        /// Whether reading is paused because the outgoing queue reached its high-water mark.
        bool reading_paused() const noexcept { return paused_; }
        /// Bytes queued and not yet written.
        std::size_t pending() const noexcept { return io_ ? io_->pending() : 0; }
        /// Whether send() would accept a frame now (below the high-water mark).
        bool writable() const noexcept { return !io_ || io_->writable(); }
        /// The framed connection itself (its buffers' state). Lent from the server's pool: the
        /// reference is valid during the current handler call only.
        framed_type& io() {
            server_->attach(*this);
            return *io_;
        }
        /// The connection's socket (for options), wherever it is now.
        stream_type& socket() noexcept { return io_ ? io_->endpoint() : stream_; }
        /// Room for the application's own per-connection pointer (not owned).
        void* user = nullptr;

    private:
        friend class framed_server;
        /// A frame was queued: the server settles the connection after the current call (listed
        /// already and inside the server's own call, on_frame: at its end). True.
        bool queued() {
            if (!listed_ || server_->depth_ == 0) server_->touch(*this);
            return true;
        }
        enum class state { connecting, open, draining, closed };

        connection(framed_server& server, stream_type stream, const address_type& peer, std::uint64_t id)
            : server_(&server), stream_(std::move(stream)), peer_(peer), id_(id) {}

        struct proxy_state {
            std::vector<std::byte> bytes;  // the header (and, while reading it, what followed)
            proxy_header header;
            bool done = false;  // the header phase is over
            bool used = false;  // a header was there
        };

        framed_server* server_;
        detail::owned<proxy_state> proxy_;  // only with server_options::proxy_protocol
        // While the connection has no partial frame and nothing queued it holds only its socket;
        // a framed object (with its buffers) is lent from the server's pool while it works.
        detail::owned<framed_type> io_;
        stream_type stream_;
        address_type peer_;
        std::uint64_t id_;
        io_watch_type watch_;
        timer_type connect_timer_;
        std::size_t slot_ = 0;
        clock::time_point last_activity_{};
        clock::time_point frame_started_{};  // time_point{}: no partial frame
        clock::time_point closing_since_{};
        std::error_code reason_;
        state state_ = state::open;
        interest interest_ = interest::none;
        bool paused_ = false;
        bool abort_ = false;
        bool listed_ = false;
        bool opened_ = false;
        bool idle_ = false;  // no activity since the previous sweep
        bool held_ = false;  // the last read left frames buffered (the queue reached its mark)
    };

    /// A server on `loop` (which must outlive it) whose connections copy `prototype`.
    explicit framed_server(Loop& loop, Codec prototype = Codec{}, server_options options = {})
        : loop_(&loop), prototype_(std::move(prototype)), options_(options) {
        const auto mark =
            options_.high_water_mark != 0 ? options_.high_water_mark : framed_type::default_high_water_mark;
        options_.high_water_mark = mark;
        if (options_.low_water_mark == 0 || options_.low_water_mark > mark)
            options_.low_water_mark = mark / 2;
        if (options_.sweep_interval.count() <= 0) {
            std::chrono::milliseconds shortest{4000};
            for (auto limit : {options_.idle_timeout, options_.frame_timeout, options_.close_timeout})
                if (limit.count() > 0 && limit < shortest) shortest = limit;
            options_.sweep_interval = shortest / 4;
            if (options_.sweep_interval < std::chrono::milliseconds(10))
                options_.sweep_interval = std::chrono::milliseconds(10);
        }
        clocked_ = options_.idle_timeout.count() > 0 || options_.frame_timeout.count() > 0;
    }
    framed_server(const framed_server&) = delete;
    framed_server& operator=(const framed_server&) = delete;
    /// Closes every connection and listener without calling handlers; cancels its timers and
    /// the signal callbacks stop_on_signals added (every callback for SIGINT and SIGTERM).
    ~framed_server() {
        sweep_.cancel();
        stop_timer_.cancel();
        for (auto& l : listeners_) {
            l->watch.cancel();
            l->backoff.cancel();
        }
        for (auto& c : connections_) {
            c->watch_.cancel();
            c->connect_timer_.cancel();
        }
        if (signals_) {
            loop_->cancel_signal(SIGINT);
            loop_->cancel_signal(SIGTERM);
        }
    }

    /// Sets the handler called once a connection is open (accepted, or connected by connect()).
    template <typename F>
    void on_open(F&& f) {
        open_handler_ = std::forward<F>(f);
    }
    /// Sets the handler called with every frame's payload (a view valid during the call).
    template <typename F>
    void on_frame(F&& f) {
        frame_handler_ = std::forward<F>(f);
    }
    /// Sets the handler called once per connection when it closes: no error when the peer closed
    /// at a frame boundary or close() was called, else why (a framing or socket error,
    /// std::errc::timed_out for the time limits, a failed connect: on_open was never called).
    template <typename F>
    void on_close(F&& f) {
        close_handler_ = std::forward<F>(f);
    }

    /// Accepts connections from `listener` (non-blocking, listening) from now on. Several
    /// listeners may be added.
    void listen(Listener listener) {
        auto l = detail::make_owned<listener_slot>();
        l->listener = std::move(listener);
        listener_slot* raw = l.get();
        listeners_.push_back(std::move(l));
        try {
            raw->watch = loop_->watch(raw->listener.native_handle(), interest::read,
                                      [this, raw](io_event) { accept_from(*raw); });
        } catch (...) {
            listeners_.pop_back();
            throw;
        }
    }
    /// Accepts connections from `listener` and hands them round-robin to `servers` (this one may
    /// be among them), each served on its own loop: one acceptor for many loops, for where
    /// SO_REUSEPORT is missing or not wanted. A connection for another server is posted to its
    /// loop (event_loop::post) and adopted there; max_connections is applied by the server that
    /// adopts it. Every server in `servers` must outlive this listener (stop() or destroy this
    /// server first) and keep its loop running while connections may arrive. Throws
    /// std::invalid_argument if `servers` is empty or holds a null pointer.
    void listen(Listener listener, std::vector<framed_server*> servers) {
        bool null = servers.empty();
        for (const framed_server* s : servers) null = null || s == nullptr;
        if (null)
            throw std::invalid_argument("sockframe: framed_server::listen: no server to hand connections to");
        listen(std::move(listener));
        listeners_.back()->targets = std::move(servers);
    }
    /// Serves `stream`, a connection accepted elsewhere (another server's listener, another
    /// program), as if this server had accepted it from `peer`: on_open runs (after the PROXY
    /// header when server_options::proxy_protocol asks for one), then the rest. It is
    /// made non-blocking. Call it on the loop's thread (from another thread: post it to loop()).
    /// Once stopping, or beyond max_connections, the connection is closed at once.
    void adopt(stream_type stream, const address_type& peer) {
        if (!stream.is_open()) return;
        inside guard(*this);
        std::error_code ec = detail::set_non_blocking(stream.native_handle(), true);
        const bool full = options_.max_connections != 0 && connections_.size() >= options_.max_connections;
        if (!ec && !stopping_ && !full) {
            admit(make_connection(std::move(stream), peer, interest::read));
        }
        settle_end(guard);
    }
    /// The local address of the listener added `index`-th (the port bound to 0).
    address_type local_address(std::size_t index = 0) const {
        return listeners_.at(index)->listener.local_address();
    }

    /// Starts a non-blocking connect to `remote`. on_open runs once connected; if the connect
    /// fails or takes longer than `timeout`, on_close runs with the error (std::errc::timed_out)
    /// and on_open never does. The connection then behaves as an accepted one.
    template <typename Rep, typename Period>
    void connect(const address_type& remote, std::chrono::duration<Rep, Period> timeout) {
        std::error_code ec;
        stream_type s = stream_type::connect(remote, deadline{}, ec);
        const bool in_progress = ec == std::errc::operation_in_progress;
        connection& c =
            make_connection(std::move(s), remote, ec && !in_progress ? interest::none : interest::write);
        if (ec && !in_progress) {
            c.abort(ec);
        } else {
            c.state_ = connection::state::connecting;
            connection* raw = &c;
            c.connect_timer_ =
                loop_->after(timeout, [raw] { raw->abort(std::make_error_code(std::errc::timed_out)); });
        }
        settle_if_outside();
    }

    /// Stops accepting (the listeners are closed), closes every connection gracefully (what is
    /// queued is sent, no more frames are read), aborts those still open after `grace`, then
    /// calls `done` (once no connection is left).
    template <typename Rep, typename Period>
    void stop(std::chrono::duration<Rep, Period> grace, detail::function<void()> done = {}) {
        stopping_ = true;
        done_ = std::move(done);
        for (auto& l : listeners_) {
            l->watch.cancel();
            l->backoff.cancel();
            l->listener.close();
        }
        ++depth_;
        for (std::size_t i = 0; i < connections_.size(); ++i) {
            connection& c = *connections_[i];
            if (c.state_ == connection::state::connecting)
                c.abort(std::make_error_code(std::errc::operation_canceled));
            else
                c.close(c.reason_);
        }
        --depth_;
        stop_timer_ = loop_->after(grace, [this] {
            inside guard(*this);  // the connections close once the walk over them is over
            for (auto& c : connections_) c->abort(std::make_error_code(std::errc::timed_out));
            settle_end(guard);
        });
        settle_if_outside();
    }
    /// Makes SIGINT and SIGTERM stop the server gracefully (stop(grace)) and then the loop
    /// (event_loop::stop, once every connection has closed). See event_loop::on_signal for the
    /// signal mask rules. Throws std::system_error where signals are not supported (Windows).
    template <typename Rep, typename Period>
    void stop_on_signals(std::chrono::duration<Rep, Period> grace) {
        const auto g = std::chrono::duration_cast<std::chrono::milliseconds>(grace);
        auto handler = [this, g](int) {
            if (!stopping_) stop(g, [this] { loop_->stop(); });
        };
        signals_ = true;
        loop_->on_signal(SIGINT, handler);
        loop_->on_signal(SIGTERM, handler);
    }

    /// Connections open now (connecting and closing ones included).
    std::size_t connection_count() const noexcept { return connections_.size(); }
    /// Calls f(connection&) for every connection (it may send, close or abort them).
    template <typename F>
    void for_each_connection(F&& f) {
        inside guard(*this);
        for (std::size_t i = 0; i < connections_.size(); ++i) f(*connections_[i]);
        settle_end(guard);
    }
    /// Whether stop() was called.
    bool stopping() const noexcept { return stopping_; }
    /// Whether some listener has stopped accepting for a while (accept back-off).
    bool accept_paused() const noexcept {
        for (auto& l : listeners_)
            if (l->backoff.active()) return true;
        return false;
    }
    /// The options in force (defaults resolved).
    const server_options& options() const noexcept { return options_; }
    /// The loop the server runs on.
    Loop& loop() noexcept { return *loop_; }

private:
    using state = typename connection::state;

    struct listener_slot {
        Listener listener;
        io_watch_type watch;
        timer_type backoff;
        std::vector<framed_server*> targets;  // round-robin hand-over; empty: serve here
        std::size_t next = 0;
    };

    /// An accepted stream on its way to another loop. post() stores copyable callables, so the
    /// copies share one box, freed by the last. The count needs no atomics: post() moves the
    /// callable in (a move leaves no owner behind), so only the target loop's thread copies it.
    class stream_box {
    public:
        explicit stream_box(stream_type s) : node_(new node{std::move(s), 1}) {}
        stream_box(const stream_box& other) noexcept : node_(other.node_) {
            if (node_ != nullptr) ++node_->owners;
        }
        stream_box(stream_box&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
        stream_box& operator=(const stream_box&) = delete;
        stream_box& operator=(stream_box&&) = delete;
        ~stream_box() {
            if (node_ != nullptr && --node_->owners == 0) delete node_;
        }
        /// The stream, moved out (once).
        stream_type take() noexcept { return std::move(node_->stream); }

    private:
        struct node {
            stream_type stream;
            std::size_t owners;
        };
        node* node_;
    };

    /// Posts an accepted connection to `target`'s loop, where it is adopted. If the post fails
    /// (no memory), the connection is closed.
    static void hand_over(framed_server& target, stream_type stream, const address_type& peer) {
        framed_server* to = &target;
        try {
            to->loop().post(
                [to, box = stream_box(std::move(stream)), peer]() mutable { to->adopt(box.take(), peer); });
        } catch (...) {
        }
    }

    /// Marks the calls in progress as the server's own: connections touched meanwhile are
    /// settled (flushed, interest updated, closed) once the outermost one ends.
    struct inside {
        framed_server& s;
        explicit inside(framed_server& server) noexcept : s(server) { ++s.depth_; }
        inside(const inside&) = delete;
        inside& operator=(const inside&) = delete;
        ~inside() { --s.depth_; }
    };

    /// The time, read once per wake-up (a read and the write after it share it).
    clock::time_point now() {
        if (wake_time_ == clock::time_point{}) wake_time_ = clock::now();
        return wake_time_;
    }

    void touch(connection& c) {
        if (!c.listed_) {
            c.listed_ = true;
            deferred_.push_back(&c);
        }
        settle_if_outside();
    }
    void settle_if_outside() {
        if (depth_ == 0) settle();
    }

    connection& make_connection(stream_type stream, const address_type& peer, interest what) {
        detail::owned<connection> keep(new connection(*this, std::move(stream), peer, ++last_id_));
        connection& c = *keep;
        c.last_activity_ = clock::now();
        c.slot_ = connections_.size();
        connections_.push_back(std::move(keep));
        connection* raw = &c;
        std::error_code ec;
        if (c.stream_.is_open()) {
            c.watch_ = loop_->watch(
                c.stream_.native_handle(), what, [this, raw](io_event ev) { on_io(*raw, ev); }, ec);
            c.interest_ = what;
        }
        if (ec) c.abort(ec);
        if (!sweep_.active()) sweep_ = loop_->every(options_.sweep_interval, [this] { sweep(); });
        return c;
    }

    void opened(connection& c) {
        c.state_ = state::open;
        c.opened_ = true;
        c.connect_timer_.cancel();
        if (options_.no_delay) {
            std::error_code ignored;  // not TCP (a Unix socket behind any_family): nothing to set
            if (c.socket().is_open()) c.socket().set(no_delay{true}, ignored);
        }
        touch(c);
        if (open_handler_) open_handler_(c);
    }

    /// An accepted or adopted connection: on_open now, or once its PROXY header is read
    /// (server_options::proxy_protocol; a peer that is not a trusted proxy is refused under
    /// `require` and served as direct under `accept`).
    void admit(connection& c) {
        if (c.abort_) return;
        if (options_.proxy_protocol != proxy_protocol_mode::off) {
            if (options_.trusted_proxies.trusts(c.peer_)) {
                c.proxy_ = detail::make_owned<typename connection::proxy_state>();
                c.frame_started_ = clock::now();  // frame_timeout covers a slow header too
                return;                           // on_open once the header is read
            }
            if (options_.proxy_protocol == proxy_protocol_mode::require) {
                c.abort(std::make_error_code(std::errc::permission_denied));
                return;
            }
        }
        opened(c);
    }

    void accept_from(listener_slot& l) {
        inside guard(*this);
        for (std::size_t i = 0; i < options_.accepts_per_wakeup; ++i) {
            std::error_code ec;
            auto a = l.listener.accept(ec);
            if (ec) {
                if (is_would_block(ec)) break;
                if (ec == std::errc::connection_aborted || ec == std::errc::interrupted) continue;
                // Out of descriptors or memory: the connection stays in the backlog and the
                // listener readable. Stop watching it for a while rather than spin.
                std::error_code ignored;
                l.watch.modify(interest::none, ignored);
                listener_slot* raw = &l;
                l.backoff = loop_->after(options_.accept_backoff, [raw] {
                    std::error_code e;
                    raw->watch.modify(interest::read, e);
                });
                break;
            }
            if (options_.max_connections != 0 && connections_.size() >= options_.max_connections) continue;
            if (!l.targets.empty()) {
                framed_server* target = l.targets[l.next];
                l.next = (l.next + 1) % l.targets.size();
                if (target != this) {
                    hand_over(*target, std::move(a.socket), a.from);
                    continue;
                }
            }
            admit(make_connection(std::move(a.socket), a.from, interest::read));
        }
        settle_end(guard);
    }

    /// Settles once `guard`'s call is the outermost one (called as its last statement).
    void settle_end(inside&) {
        if (depth_ == 1) {
            --depth_;
            settle();
            ++depth_;
        }
    }

    void on_io(connection& c, io_event ev) {
        if (depth_ == 0) wake_time_ = clock::time_point{};  // a new wake-up (also after a throw)
        inside guard(*this);
        if (c.state_ == state::connecting) {
            if (ev.writable || ev.error || ev.hangup) {
                std::error_code ec = c.socket().connect_result();
                if (ec)
                    c.abort(ec);
                else
                    opened(c);
            }
        } else if (c.state_ != state::closed && !c.abort_) {
            if (ev.writable || ev.error || (ev.hangup && c.paused_)) flush_now(c);
            if ((ev.readable || ev.hangup || ev.error) && !c.abort_) read(c);
        }
        touch(c);
        settle_end(guard);
    }

    void flush_now(connection& c) {
        if (!c.io_) return;
        const std::size_t before = c.io_->pending();
        if (before == 0) return;
        std::error_code ec = detail::no_error();  // no call into the runtime
        c.io_->flush(ec);
        if (ec) {
            c.abort(ec);
            return;
        }
        if (c.io_->pending() < before) {
            if (clocked_) c.last_activity_ = now();
            c.idle_ = false;
        }
    }

    /// Reads the PROXY header of a connection from a trusted proxy; true once it is done (the
    /// connection is open, what followed the header buffered for the codec). Over a layered
    /// stream (TLS) the header is read in clear text from the socket underneath, and what
    /// followed it is handed to the layer (the start of the TLS handshake).
    bool read_proxy(connection& c) {
        auto& p = *c.proxy_;
        const std::size_t limit = options_.max_proxy_header < 16 ? 16 : options_.max_proxy_header;
        for (;;) {
            const std::size_t have = p.bytes.size();
            std::size_t room = limit - have;
            if (room > 512) room = 512;
            if (room == 0) room = 1;  // the parser has decided by then; never reached
            p.bytes.resize(have + room);
            std::error_code ec;
            const mutable_buffer into(p.bytes.data() + have, room);
            std::size_t n = 0;
            if constexpr (detail::reads_proxy_below<stream_type>::value) {
                n = c.socket().next_layer().read_some(into, ec);  // the header precedes TLS
            } else {
                n = c.socket().read_some(into, ec);
            }
            p.bytes.resize(have + (ec ? 0 : n));
            if (ec) {
                if (!is_would_block(ec)) c.abort(ec);
                return false;
            }
            if (n == 0) {
                c.abort(make_error_code(p.bytes.empty() ? errc::end_of_stream : errc::truncated_stream));
                return false;
            }
            const const_buffer all(p.bytes.data(), p.bytes.size());
            const proxy_detect kind = detect_proxy_header(all);
            if (kind == proxy_detect::need_more) continue;
            std::size_t header = 0;
            if (kind == proxy_detect::none) {
                if (options_.proxy_protocol == proxy_protocol_mode::require) {
                    c.abort(make_error_code(errc::malformed_frame));
                    return false;
                }
            } else {
                const decode_result r = parse_proxy_header(all, p.header, limit);
                if (r.is_error()) {
                    c.abort(r.error);
                    return false;
                }
                if (r.needs_more()) {
                    if (p.bytes.size() >= limit) {
                        c.abort(make_error_code(errc::frame_too_large));
                        return false;
                    }
                    continue;
                }
                header = r.consumed;
                p.used = true;
            }
            p.done = true;
            if constexpr (detail::reads_proxy_below<stream_type>::value) {
                // what followed the header begins the layer's own protocol (a ClientHello)
                c.socket().feed_received(all.subspan(header), ec);
                if (ec) {
                    c.abort(ec);
                    return false;
                }
                attach(c);
            } else {
                attach(c);
                c.io_->feed_received(all.subspan(header));
            }
            p.bytes.resize(header);  // no reallocation: the header's views stay valid
            opened(c);
            return true;
        }
    }

    /// Every frame buffered or brought by one read, each to on_frame, unless reading is paused.
    void read(connection& c) {
        if (c.proxy_ && !c.proxy_->done) {
            if (c.state_ != state::open || c.abort_ || !read_proxy(c)) return;
        }
        if (c.state_ != state::open || c.paused_) return;
        c.held_ = false;
        attach(c);
        framed_type& io = *c.io_;
        const bool had_partial = io.buffered() > 0;
        std::error_code ec = detail::no_error();  // no call into the runtime
        const std::size_t n = io.receive_batch(
            [this, &c, &io](const_buffer payload) -> bool {
                if (frame_handler_) frame_handler_(c, payload);
                if (c.state_ == state::open && !c.abort_ && io.writable()) return true;
                c.held_ = true;  // the frames after this one stay buffered
                return false;
            },
            deadline{}, ec);
        if (n > 0) c.idle_ = false;
        if (clocked_) {  // only the idle and frame timeouts need the time
            const auto now = this->now();
            if (n > 0) c.last_activity_ = now;
            if (io.buffered() == 0)
                c.frame_started_ = clock::time_point{};
            else if (n > 0 || !had_partial)
                c.frame_started_ = now;
        }
        if (ec) {
            if (!is_would_block(ec)) c.abort(ec);  // a framing error, a reset
        } else if (n == 0 && io.at_end()) {
            c.close();  // the peer closed: send what is queued, then close
        }
    }

    void settle() {
        if (settling_) return;
        settling_ = true;
        ++depth_;
        struct leave {
            framed_server& s;
            ~leave() {
                s.settling_ = false;
                --s.depth_;
            }
        } guard{*this};
        std::size_t i = 0;
        try {
            for (; i < deferred_.size(); ++i) {
                connection& c = *deferred_[i];
                c.listed_ = false;
                update(c);
            }
        } catch (...) {
            deferred_.erase(deferred_.begin(), deferred_.begin() + static_cast<std::ptrdiff_t>(i + 1));
            throw;
        }
        deferred_.clear();
        graveyard_.clear();
        wake_time_ = clock::time_point{};
        if (connections_.empty()) {
            sweep_.cancel();
            if (stopping_) {
                stop_timer_.cancel();
                if (done_) {
                    auto done = std::move(done_);
                    done_ = nullptr;
                    done();
                }
            }
        }
        (void)guard;
    }

    /// After a wake-up: the coalesced write, the pause / resume decision, the interest, or the end.
    void update(connection& c) {
        if (c.state_ == state::closed) return;
        if (c.abort_) return finish(c);
        if (c.state_ == state::connecting) return set_interest(c, interest::write);
        if (c.pending() > 0) {
            flush_now(c);
            if (c.abort_) return finish(c);
        }
        if (c.state_ == state::draining) {
            if (c.pending() == 0) return finish(c);
            return set_interest(c, interest::write);
        }
        if (!c.paused_ && !c.writable()) {
            c.paused_ = true;
        } else if (c.paused_ && c.pending() <= options_.low_water_mark) {
            c.paused_ = false;
        }
        if (!c.paused_ && (c.held_ || detail::pending_input(c.socket()) > 0)) {
            // frames held back at the mark, or bytes a layer under framed holds (TLS): the
            // socket may never wake us for them
            read(c);
            touch(c);
            return;
        }
        interest what = c.paused_ ? interest::none : interest::read;
        if (c.pending() > 0) what |= interest::write;
        set_interest(c, what);
        if (c.io_ && c.state_ == state::open && !c.abort_ && !c.paused_ && !c.held_ &&
            c.io_->buffered() == 0 && c.io_->pending() == 0 && !c.io_->at_end())
            detach(c);
    }

    /// Lends a framed object (and its buffers) to `c`, from the pool or new.
    void attach(connection& c) {
        if (c.io_) return;
        pool_used_ = true;
        detail::owned<framed_type> f;
        if (!pool_.empty()) {
            f = std::move(pool_.back());
            pool_.pop_back();
        } else {
            f = detail::make_owned<framed_type>(stream_type{}, prototype_);
            f->set_high_water_mark(options_.high_water_mark);
            // what one wake-up reads at most: its replies leave in one write after it
            const std::size_t most_read = framed_type::adaptive_receive_limit;
            f->set_coalesce_limit(options_.high_water_mark < most_read ? options_.high_water_mark
                                                                       : most_read);
            if (options_.initial_receive_capacity != 0)
                f->set_initial_receive_capacity(options_.initial_receive_capacity);
        }
        f->endpoint() = std::move(c.stream_);
        c.io_ = std::move(f);
    }

    /// Takes the framed object back from `c` (nothing buffered, nothing queued: it holds no state
    /// of the connection but its socket, which stays with the connection).
    void detach(connection& c) noexcept {
        c.stream_ = std::move(c.io_->endpoint());
        c.io_->codec().reset();
        if (pool_.size() < pool_limit) {
            pool_.push_back(std::move(c.io_));
        } else {
            c.io_.reset();
        }
    }

    void set_interest(connection& c, interest what) {
        if (what == c.interest_) return;
        std::error_code ec;
        c.watch_.modify(what, ec);
        if (ec) {
            c.abort(ec);
            return finish(c);
        }
        c.interest_ = what;
    }

    /// The end of a connection: unwatched, closed, on_close told, freed once settled.
    void finish(connection& c) {
        c.state_ = state::closed;
        c.watch_.cancel();
        c.connect_timer_.cancel();
        c.socket().close();
        const std::size_t slot = c.slot_;
        detail::owned<connection> keep = std::move(connections_[slot]);
        if (slot + 1 != connections_.size()) {
            connections_[slot] = std::move(connections_.back());
            connections_[slot]->slot_ = slot;
        }
        connections_.pop_back();
        graveyard_.push_back(std::move(keep));
        if (close_handler_) close_handler_(c, c.reason_);
    }

    void sweep() {
        inside guard(*this);
        const auto now = clock::now();
        for (std::size_t i = 0; i < connections_.size(); ++i) {
            connection& c = *connections_[i];
            if (c.state_ == state::draining) {
                if (options_.close_timeout.count() > 0 && now - c.closing_since_ >= options_.close_timeout)
                    c.abort(std::make_error_code(std::errc::timed_out));
                continue;
            }
            if (c.state_ != state::open) continue;
            if (options_.idle_timeout.count() > 0 && now - c.last_activity_ >= options_.idle_timeout) {
                c.abort(std::make_error_code(std::errc::timed_out));
                continue;
            }
            if (options_.frame_timeout.count() > 0 && !c.paused_ && c.frame_started_ != clock::time_point{} &&
                now - c.frame_started_ >= options_.frame_timeout) {
                c.abort(std::make_error_code(std::errc::timed_out));
                continue;
            }
            if (options_.release_idle_buffers) {
                if (c.idle_ && c.io_ && c.io_->buffered() == 0 && c.io_->pending() == 0) {
                    c.io_->release_receive_buffer();
                    c.io_->release_send_buffer();
                }
                c.idle_ = true;
            }
        }
        if (options_.release_idle_buffers) {
            if (!pool_used_)
                for (auto& f : pool_) {
                    f->release_receive_buffer();
                    f->release_send_buffer();
                }
            pool_used_ = false;
        }
        settle_end(guard);
    }

    /// Framed objects kept for lending (more are made when more connections work at once).
    static constexpr std::size_t pool_limit = 8;

    Loop* loop_;
    Codec prototype_;
    server_options options_;
    detail::function<void(connection&)> open_handler_;
    detail::function<void(connection&, const_buffer)> frame_handler_;
    detail::function<void(connection&, std::error_code)> close_handler_;
    std::vector<detail::owned<listener_slot>> listeners_;
    std::vector<detail::owned<connection>> connections_;
    std::vector<connection*> deferred_;
    std::vector<detail::owned<connection>> graveyard_;
    std::vector<detail::owned<framed_type>> pool_;
    bool pool_used_ = false;  // a framed object was lent since the previous sweep
    timer_type sweep_;
    timer_type stop_timer_;
    detail::function<void()> done_;
    std::uint64_t last_id_ = 0;
    unsigned depth_ = 0;
    clock::time_point wake_time_{};  // now() of the current wake-up; time_point{}: not read yet
    bool settling_ = false;
    bool stopping_ = false;
    bool clocked_ = false;  // an idle or frame timeout is set: reads and writes note the time
    bool signals_ = false;
};

SOCKFRAME_NAMESPACE_END
