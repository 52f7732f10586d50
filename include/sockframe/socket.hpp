// SPDX-License-Identifier: MIT
#pragma once
/// basic_socket<Family, Type, Mode>: the RAII socket every endpoint is. Stream calls (read_some,
/// write_all, ...) and message calls (send_to, receive_from, ...) are there for the types they fit.
///
/// Thread safety: distinct sockets may be used from distinct threads; one socket is used by one
/// thread at a time (one reader plus one writer on a stream is also safe: they share no state
/// but the descriptor and the timeout, which must not change meanwhile).

#include <sockframe/address.hpp>
#include <sockframe/buffer.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/detail/array_list.hpp>
#include <sockframe/detail/os.hpp>
#include <sockframe/detail/resolve_into.hpp>
#include <sockframe/error.hpp>
#include <sockframe/options.hpp>
#include <sockframe/policies.hpp>

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <new>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

/// Which direction shutdown() closes.
enum class shutdown_type {
    receive,  ///< no more receiving (SHUT_RD)
    send,     ///< no more sending: the peer reads end-of-stream (SHUT_WR)
    both      ///< both (SHUT_RDWR)
};

/// What receive_from returns: bytes received and who sent them.
template <typename Address>
struct received_from {
    /// The bytes received.
    std::size_t size = 0;
    /// The sender's address.
    Address from;
};

/// Which per-datagram metadata the kernel reports (enable_metadata); bits, combined with `|`.
enum class metadata : unsigned {
    none = 0,
    destination = detail::info_destination,  ///< the address a datagram was sent to, and the interface
    traffic_class = detail::info_tos,        ///< the IPv4 TOS / IPv6 traffic class byte (ECN included)
    hop_limit = detail::info_ttl,            ///< the IPv4 TTL / IPv6 hop limit
    timestamp = detail::info_timestamp,      ///< the kernel's receive time
    all = detail::info_destination | detail::info_tos | detail::info_ttl | detail::info_timestamp
};
/// Both sets of bits.
constexpr metadata operator|(metadata a, metadata b) noexcept {
    return static_cast<metadata>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}

/// What a receive reports about one datagram besides its bytes: its sender, and what the kernel
/// was asked to report (enable_metadata); what it did not report keeps its "none" value. Plain
/// data: receiving into it allocates nothing.
struct datagram_info {
    /// The sender (IPv4, IPv6 or Unix domain; unspecified for an unnamed Unix socket).
    any_address source;
    /// The address the datagram was sent to (metadata::destination): tells a unicast datagram
    /// from a multicast or broadcast one, and which local address a wildcard socket answers from.
    ip_address destination;
    /// Whether `destination` and `interface_index` were reported.
    bool has_destination = false;
    /// The interface the datagram arrived on (if_nametoindex numbering; 0: not reported).
    std::uint32_t interface_index = 0;
    /// The TOS / traffic class byte (metadata::traffic_class); -1: not reported.
    int traffic_class = -1;
    /// The TTL / hop limit it arrived with (metadata::hop_limit); -1: not reported.
    int hop_limit = -1;
    /// When the kernel received it, since the Unix epoch (metadata::timestamp; has_timestamp).
    std::chrono::nanoseconds timestamp{0};
    /// Whether `timestamp` was reported.
    bool has_timestamp = false;
    /// UDP GRO: the size of each datagram coalesced into this buffer (0: one datagram).
    std::size_t segment_size = 0;
    /// The datagram's bytes (its whole size when truncated, where the OS says: Linux).
    std::size_t size = 0;
    /// The datagram was larger than the buffer: the rest is lost.
    bool truncated = false;
    /// The ECN bits of traffic_class (0 not ECT, 1 ECT(1), 2 ECT(0), 3 CE); -1: not reported.
    int ecn() const noexcept { return traffic_class < 0 ? -1 : traffic_class & 3; }
};

/// Where a datagram leaves from (send_to with a source): a local address of this host (its port
/// ignored) and/or an interface (0: any). IP_PKTINFO / IPV6_PKTINFO.
struct datagram_source {
    /// The source address the datagram carries.
    ip_address address;
    /// The interface to send on (0: chosen by routing).
    std::uint32_t interface_index = 0;
};

/// One message of a batched receive (receive_batch): the caller points `buffer` at free space;
/// the call sets `size` and `truncated` (the message was larger than `buffer`: its first
/// buffer.size() bytes are there, the rest is lost). With `info` set, the call fills it too (the
/// sender, and the metadata enabled with enable_metadata).
struct message_slot {
    /// Where the message goes (set by the caller).
    mutable_buffer buffer;
    /// The bytes received (set by the call).
    std::size_t size = 0;
    /// Whether the message was larger than `buffer` (set by the call).
    bool truncated = false;
    /// The message's whole size: `size`, or when truncated its whole size where the OS says
    /// (Linux), else buffer.size().
    std::size_t whole_size = 0;
    /// Optional: filled with the sender and the metadata (null: not wanted).
    datagram_info* info = nullptr;
};

/// One message of a gathered send_batch: `count` buffers sent as one datagram or record.
struct message_view {
    /// The message's buffers, in order.
    const const_buffer* buffers = nullptr;
    /// How many.
    std::size_t count = 0;
};

namespace detail {
/// Fills `info` (but its source) from a received message's header and ancillary data.
inline void fill_info(datagram_info& info, const message_header& h) noexcept {
    datagram_control c;
    parse_datagram_control(h.control, h.control_length, c);
    info.has_destination = c.destination_length > 0;
    if (info.has_destination) {
        std::memcpy(info.destination.data(), &c.destination, static_cast<std::size_t>(c.destination_length));
        info.destination.assign_native(c.destination_length);
    } else {
        info.destination = ip_address{};
    }
    info.interface_index = c.interface_index;
    info.traffic_class = c.tos;
    info.hop_limit = c.ttl;
    info.has_timestamp = c.has_timestamp;
    info.timestamp = c.has_timestamp
                         ? std::chrono::seconds(c.seconds) + std::chrono::nanoseconds(c.nanoseconds)
                         : std::chrono::nanoseconds(0);
    info.segment_size = c.segment_size;
    info.size = h.size;
    info.truncated = h.truncated;
}
}  // namespace detail

template <typename Family, typename Type, typename Mode>
class basic_socket;

/// How connect(host, service) and connect(candidates) try several addresses.
struct connect_options {
    /// RFC 8305 Happy Eyeballs: instead of one address after the other, start the next attempt
    /// `attempt_delay` after the previous one (at once when one fails) while the earlier ones go
    /// on, alternating IPv6 and IPv4 addresses (first the family the resolver put first). The
    /// first to connect wins; the others are closed. Off: strictly in order, one at a time.
    bool happy_eyeballs = false;
    /// The stagger between Happy Eyeballs attempts (RFC 8305 recommends 250 ms).
    std::chrono::milliseconds attempt_delay{250};
};

namespace detail {
template <typename Socket>
Socket connect_in_order(const typename Socket::address_type* candidates, std::size_t count,
                        const std::optional<clock::time_point>& when, std::error_code& ec) noexcept;
template <typename Socket>
Socket connect_racing(const typename Socket::address_type* candidates, std::size_t count,
                      std::chrono::milliseconds delay, const std::optional<clock::time_point>& when,
                      std::error_code& ec) noexcept;
/// Whether C is a contiguous list of `Address` (std::vector, std::array, std::span, ...).
template <typename C, typename Address, typename = void>
struct is_address_list : std::false_type {};
template <typename C, typename Address>
struct is_address_list<
    C, Address,
    std::void_t<decltype(std::declval<const C&>().data()), decltype(std::declval<const C&>().size())>>
    : std::is_convertible<decltype(std::declval<const C&>().data()), const Address*> {};
}  // namespace detail

namespace detail {
/// What every socket has, whatever its type: the descriptor and its timeout, options, addresses,
/// bind, connect_to and shutdown. The calls that fit only some types are added by the layers
/// below (stream_calls, message_calls, datagram_calls); basic_socket picks them by its Type.
template <typename Family, typename Type, typename Mode>
class socket_core {
public:
    using family_type = Family;
    using socket_type = Type;
    using mode_type = Mode;
    using address_type = typename Family::address_type;
    using native_handle_type = detail::native_handle_type;
    using duration = deadline::clock::duration;

    /// The most buffers one gathered call takes.
    static constexpr std::size_t gather_limit = 64;

    /// Whether the socket holds a descriptor.
    bool is_open() const noexcept { return handle_ != detail::invalid_handle; }
    /// is_open().
    explicit operator bool() const noexcept { return is_open(); }
    /// The descriptor (fileno), still owned by this object.
    native_handle_type native_handle() const noexcept { return handle_; }
    /// Gives up ownership: the caller closes the returned descriptor.
    native_handle_type release() noexcept { return std::exchange(handle_, detail::invalid_handle); }
    /// Closes the descriptor; a second close does nothing. Errors from close are ignored.
    void close() noexcept {
        if (handle_ != detail::invalid_handle)
            detail::close_handle(std::exchange(handle_, detail::invalid_handle));
    }

    /// settimeout counterpart: the default deadline of every blocking call, measured from the
    /// call's start (nullopt: wait forever). Non-blocking sockets never wait. Saturating: a
    /// duration too long for the clock (hours::max()) means no timeout (timeout() is then
    /// nullopt), a negative one means zero (calls do only what is possible at once).
    template <typename Rep, typename Period>
    void set_timeout(std::chrono::duration<Rep, Period> t) noexcept {
        if (!(t > std::chrono::duration<Rep, Period>::zero()))
            timeout_ = duration::zero();
        else if (deadline::exceeds(t, (duration::max)()))
            timeout_.reset();
        else
            timeout_ = std::chrono::duration_cast<duration>(t);
    }
    void set_timeout(std::nullopt_t) noexcept { timeout_.reset(); }
    /// gettimeout counterpart.
    std::optional<duration> timeout() const noexcept { return timeout_; }

    /// bind counterpart: gives the socket its local address.
    void bind(const address_type& local) {
        std::error_code ec;
        bind(local, ec);
        if (ec) throw std::system_error(ec, "sockframe: bind to " + local.to_string());
    }
    void bind(const address_type& local, std::error_code& ec) noexcept {
        ec = detail::bind_socket(handle_, local.data(), local.size());
    }

    /// Connects this (open) socket; for datagram sockets it sets the default peer.
    void connect_to(const address_type& remote, deadline d = {}) {
        std::error_code ec;
        connect_to(remote, d, ec);
        if (ec) throw std::system_error(ec, "sockframe: connect to " + remote.to_string());
    }
    void connect_to(const address_type& remote, std::error_code& ec) noexcept {
        connect_to(remote, deadline{}, ec);
    }
    void connect_to(const address_type& remote, deadline d, std::error_code& ec) noexcept {
        auto when = d.resolve(timeout_);
        if (Mode::is_blocking && when) {
            ec = detail::set_non_blocking(handle_, true);
            if (ec) return;
            start_connect(remote, ec);
            if (ec == std::errc::operation_in_progress) finish_connect(when, ec);
            std::error_code restore = detail::set_non_blocking(handle_, false);
            if (!ec) ec = restore;
            return;
        }
        start_connect(remote, ec);
        if (Mode::is_blocking && ec == std::errc::operation_in_progress) finish_connect(std::nullopt, ec);
    }
    /// Non-blocking connect, second half: after the socket turned writable, the connect's outcome
    /// (SO_ERROR). An empty code means connected.
    std::error_code connect_result() const noexcept { return detail::pending_error(handle_); }

    /// getsockname counterpart.
    address_type local_address() const {
        std::error_code ec;
        auto a = local_address(ec);
        detail::throw_if(ec, "sockframe: getsockname");
        return a;
    }
    address_type local_address(std::error_code& ec) const noexcept {
        address_type a;
        detail::socklen_type len = address_type::capacity();
        ec = detail::local_name(handle_, a.data(), &len);
        if (!ec && !a.assign_native(len)) ec = errc::bad_address;
        return a;
    }
    /// getpeername counterpart.
    address_type remote_address() const {
        std::error_code ec;
        auto a = remote_address(ec);
        detail::throw_if(ec, "sockframe: getpeername");
        return a;
    }
    address_type remote_address(std::error_code& ec) const noexcept {
        address_type a;
        detail::socklen_type len = address_type::capacity();
        ec = detail::peer_name(handle_, a.data(), &len);
        if (!ec && !a.assign_native(len)) ec = errc::bad_address;
        return a;
    }

    /// Closes one or both directions; after shutdown(send) the peer reads end-of-stream.
    void shutdown(shutdown_type what) {
        std::error_code ec;
        shutdown(what, ec);
        detail::throw_if(ec, "sockframe: shutdown");
    }
    void shutdown(shutdown_type what, std::error_code& ec) noexcept {
        ec = detail::shutdown_socket(handle_, what == shutdown_type::receive ? 0
                                              : what == shutdown_type::send  ? 1
                                                                             : 2);
    }

    /// setsockopt with an option type: `s.set(no_delay{true})`.
    template <typename Option>
    void set(const Option& option) {
        std::error_code ec;
        set(option, ec);
        detail::throw_if(ec, "sockframe: setsockopt");
    }
    /// The same, never throwing. Where the system has no such socket option
    /// (errc::no_protocol_option) and the option type names another way (a Windows ioctl for the
    /// keep-alive timing), that way is taken.
    template <typename Option>
    void set(const Option& option, std::error_code& ec) noexcept {
        auto native = option.to_native();
        set_option(Option::level(), Option::name(), const_buffer(&native, sizeof native), ec);
        if constexpr (detail::has_set_fallback<Option>::value) {
            if (ec == std::errc::no_protocol_option) ec = Option::set_fallback(handle_, option);
        }
    }
    /// getsockopt with an option type: `s.get<no_delay>().value`.
    template <typename Option>
    Option get() const {
        std::error_code ec;
        Option o = get<Option>(ec);
        detail::throw_if(ec, "sockframe: getsockopt");
        return o;
    }
    template <typename Option>
    Option get(std::error_code& ec) const noexcept {
        decltype(std::declval<const Option&>().to_native()) native{};
        get_option(Option::level(), Option::name(), mutable_buffer(&native, sizeof native), ec);
        return Option::from_native(native);
    }
    /// Raw setsockopt for any level/name, with an int value.
    void set_option(int level, int name, int value) {
        std::error_code ec;
        set_option(level, name, const_buffer(&value, sizeof value), ec);
        detail::throw_if(ec, "sockframe: setsockopt");
    }
    /// Raw setsockopt with the option's bytes.
    void set_option(int level, int name, const_buffer value, std::error_code& ec) noexcept {
        ec = detail::set_socket_option(handle_, level, name, value.data(), value.size());
    }
    /// Raw getsockopt of an int-valued option.
    int get_option(int level, int name) const {
        int value = 0;
        std::error_code ec;
        get_option(level, name, mutable_buffer(&value, sizeof value), ec);
        detail::throw_if(ec, "sockframe: getsockopt");
        return value;
    }
    /// Raw getsockopt into `out`; returns the option's length.
    std::size_t get_option(int level, int name, mutable_buffer out, std::error_code& ec) const noexcept {
        std::size_t size = out.size();
        ec = detail::get_socket_option(handle_, level, name, out.data(), size);
        return ec ? 0 : size;
    }

protected:
    socket_core() noexcept = default;
    explicit socket_core(native_handle_type handle) noexcept : handle_(handle) {}
    socket_core(const socket_core&) = delete;
    socket_core& operator=(const socket_core&) = delete;
    socket_core(socket_core&& other) noexcept
        : handle_(std::exchange(other.handle_, detail::invalid_handle)), timeout_(other.timeout_) {}
    socket_core& operator=(socket_core&& other) noexcept {
        if (this != &other) {
            close();
            handle_ = std::exchange(other.handle_, detail::invalid_handle);
            timeout_ = other.timeout_;
        }
        return *this;
    }
    ~socket_core() { close(); }

    /// Runs `op(flags, ec)` (one system call returning bytes or -1), waiting for `events` until
    /// `when` if it would block. Blocking mode without a deadline blocks in the kernel; with one,
    /// the call is made non-waiting and poll() bounds the wait. Non-blocking mode never waits.
    template <typename Op>
    std::ptrdiff_t wait_and(short events, const std::optional<deadline::clock::time_point>& when,
                            std::error_code& ec, Op&& op) noexcept {
        if (!Mode::is_blocking) return op(0, ec);
        if (!when) {
            auto n = op(0, ec);
            // SO_RCVTIMEO/SO_SNDTIMEO set by hand make a blocking call return EAGAIN.
            if (n < 0 && ec == std::errc::operation_would_block) ec = detail::timed_out_error();
            return n;
        }
#if defined(SOCKFRAME_WINDOWS)
        ec = detail::set_non_blocking(handle_, true);
        if (ec) return -1;
        std::ptrdiff_t n;
        for (;;) {
            n = op(0, ec);
            if (n >= 0 || ec != std::errc::operation_would_block) break;
            ec = detail::wait_ready(handle_, events, when);
            if (ec) {
                n = -1;
                break;
            }
        }
        std::error_code restore = detail::set_non_blocking(handle_, false);
        if (!ec && restore) {
            ec = restore;
            n = -1;
        }
        return n;
#else
        for (;;) {
            auto n = op(detail::dont_wait, ec);
            if (n >= 0 || ec != std::errc::operation_would_block) return n;
            ec = detail::wait_ready(handle_, events, when);
            if (ec) return -1;
        }
#endif
    }

    static std::size_t to_iovecs(const const_buffer* buffers, std::size_t count,
                                 detail::iovec_type* vecs) noexcept {
        std::size_t used = 0;
        for (std::size_t i = 0; i < count && used < gather_limit; ++i)
            if (!buffers[i].empty()) detail::set_iovec(vecs[used++], buffers[i].data(), buffers[i].size());
        return used;
    }

    void start_connect(const address_type& remote, std::error_code& ec) noexcept {
        // An interrupted connect goes on in the background: the OS layer reports it as in progress.
        ec = detail::connect_socket(handle_, remote.data(), remote.size());
    }
    void finish_connect(const std::optional<deadline::clock::time_point>& when,
                        std::error_code& ec) noexcept {
        ec = detail::wait_connected(handle_, when);
        if (!ec) ec = connect_result();
    }

    native_handle_type handle_ = detail::invalid_handle;
    std::optional<duration> timeout_;
};

/// Stream calls (TCP, Unix stream): read_some, write_some, read_exact, write_all.
template <typename Base>
class stream_calls : public Base {
    using Mode = typename Base::mode_type;

public:
    using Base::Base;

    /// recv counterpart: reads what is there (at least one byte, waiting if needed). Returns 0 only
    /// at end-of-stream (the peer's orderly close) or when `out` is empty.
    std::size_t read_some(mutable_buffer out, deadline d = {}) {
        std::error_code ec;
        auto n = read_some(out, d, ec);
        detail::throw_if(ec, "sockframe: recv");
        return n;
    }
    std::size_t read_some(mutable_buffer out, std::error_code& ec) noexcept {
        return read_some(out, deadline{}, ec);
    }
    std::size_t read_some(mutable_buffer out, deadline d, std::error_code& ec) noexcept {
        if (out.empty()) {
            ec.clear();
            return 0;
        }
        auto n = this->wait_and(
            detail::poll_in, d.resolve(this->timeout_), ec, [&](int flags, std::error_code& e) {
                return detail::receive_once(this->handle_, out.data(), out.size(), flags, e);
            });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }

    /// recv(MSG_PEEK): copies what is there (waiting as read_some does) without taking it: the
    /// next read returns the same bytes. 0 only at end-of-stream or for an empty `out`. E.g. to
    /// read a protocol's first bytes (a PROXY or MQTT header) before choosing how to frame.
    std::size_t peek(mutable_buffer out, deadline d = {}) {
        std::error_code ec;
        auto n = peek(out, d, ec);
        detail::throw_if(ec, "sockframe: peek");
        return n;
    }
    /// The same, never throwing.
    std::size_t peek(mutable_buffer out, deadline d, std::error_code& ec) noexcept {
        if (out.empty()) {
            ec.clear();
            return 0;
        }
        auto n = this->wait_and(
            detail::poll_in, d.resolve(this->timeout_), ec, [&](int flags, std::error_code& e) {
                return detail::receive_once(this->handle_, out.data(), out.size(), flags | MSG_PEEK, e);
            });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }

    /// send counterpart: writes what fits now (at least one byte, waiting if needed).
    std::size_t write_some(const_buffer in, deadline d = {}) {
        std::error_code ec;
        auto n = write_some(in, d, ec);
        detail::throw_if(ec, "sockframe: send");
        return n;
    }
    std::size_t write_some(const_buffer in, std::error_code& ec) noexcept {
        return write_some(in, deadline{}, ec);
    }
    std::size_t write_some(const_buffer in, deadline d, std::error_code& ec) noexcept {
        if (in.empty()) {
            ec.clear();
            return 0;
        }
        auto n = this->wait_and(detail::poll_out, d.resolve(this->timeout_), ec,
                                [&](int flags, std::error_code& e) {
                                    return detail::send_once(this->handle_, in.data(), in.size(), flags, e);
                                });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }

    /// Fills `out` completely. End-of-stream before the first byte is errc::end_of_stream, after
    /// it errc::truncated_stream. Returns the bytes read (out.size() unless `ec` is set).
    std::size_t read_exact(mutable_buffer out, deadline d = {}) {
        std::error_code ec;
        auto n = read_exact(out, d, ec);
        detail::throw_if(ec, "sockframe: read_exact");
        return n;
    }
    std::size_t read_exact(mutable_buffer out, std::error_code& ec) noexcept {
        return read_exact(out, deadline{}, ec);
    }
    std::size_t read_exact(mutable_buffer out, deadline d, std::error_code& ec) noexcept {
        auto when = d.resolve(this->timeout_);
        deadline fixed = when ? deadline(*when) : deadline::never();
        std::size_t total = 0;
        ec.clear();
        while (total < out.size()) {
            std::size_t n = read_some(out.subspan(total), fixed, ec);
            if (ec) break;
            if (n == 0) {
                ec = total == 0 ? errc::end_of_stream : errc::truncated_stream;
                break;
            }
            total += n;
        }
        return total;
    }

    /// sendall counterpart: writes every byte, completing partial sends. Returns the bytes written
    /// (in.size() unless `ec` is set; then the peer may have received that many).
    std::size_t write_all(const_buffer in, deadline d = {}) {
        std::error_code ec;
        auto n = write_all(in, d, ec);
        detail::throw_if(ec, "sockframe: write_all");
        return n;
    }
    std::size_t write_all(const_buffer in, std::error_code& ec) noexcept {
        return write_all(&in, 1, deadline{}, ec);
    }
    std::size_t write_all(const_buffer in, deadline d, std::error_code& ec) noexcept {
        return write_all(&in, 1, d, ec);
    }
    /// Gathered sendall: every buffer, in order, in as few system calls as the OS allows (writev).
    std::size_t write_all(std::initializer_list<const_buffer> in, deadline d = {}) {
        std::error_code ec;
        auto n = write_all(in.begin(), in.size(), d, ec);
        detail::throw_if(ec, "sockframe: write_all");
        return n;
    }
    std::size_t write_all(std::initializer_list<const_buffer> in, std::error_code& ec) noexcept {
        return write_all(in.begin(), in.size(), deadline{}, ec);
    }
    std::size_t write_all(const const_buffer* buffers, std::size_t count, deadline d = {}) {
        std::error_code ec;
        auto n = write_all(buffers, count, d, ec);
        detail::throw_if(ec, "sockframe: write_all");
        return n;
    }
    std::size_t write_all(const const_buffer* buffers, std::size_t count, deadline d,
                          std::error_code& ec) noexcept {
        auto when = d.resolve(this->timeout_);
        std::size_t total = 0;
        ec.clear();
        if (count == 1) {  // one buffer: plain send() until it is all written
            const std::byte* p = buffers[0].data();
            std::size_t left = buffers[0].size();
            while (left > 0) {
                auto n = this->wait_and(detail::poll_out, when, ec, [&](int flags, std::error_code& e) {
                    return detail::send_once(this->handle_, p, left, flags, e);
                });
                if (ec) return total;
                p += n;
                left -= static_cast<std::size_t>(n);
                total += static_cast<std::size_t>(n);
            }
            return total;
        }
        constexpr std::size_t batch = 64;
        detail::iovec_type vecs[batch];
        std::size_t next = 0;  // first buffer not yet placed in vecs
        std::size_t first = 0, used = 0;
        for (;;) {
            // refill the iovec window with buffers not yet sent
            if (first == used) {
                first = used = 0;
                while (next < count && used < batch) {
                    if (!buffers[next].empty())
                        detail::set_iovec(vecs[used++], buffers[next].data(), buffers[next].size());
                    ++next;
                }
                if (used == 0) return total;
            }
            auto n = this->wait_and(detail::poll_out, when, ec, [&](int flags, std::error_code& e) {
                if (used - first == 1)  // one buffer: plain send(), cheaper than a gathered call
                    return detail::send_once(this->handle_, detail::iovec_data(vecs[first]),
                                             detail::iovec_size(vecs[first]), flags, e);
                return detail::send_vector(this->handle_, vecs + first, used - first, flags, e);
            });
            if (ec) return total;
            auto sent = static_cast<std::size_t>(n);
            total += sent;
            while (sent > 0 && first < used) {
                std::size_t here = detail::iovec_size(vecs[first]);
                if (sent >= here) {
                    sent -= here;
                    ++first;
                } else {
                    detail::advance_iovec(vecs[first], sent);
                    sent = 0;
                }
            }
        }
    }

    /// Sends `count` bytes of the open file `file` (a POSIX descriptor; on Windows a C runtime
    /// descriptor from _open or _fileno) from `offset`, all of them, without copying them through
    /// user space where the system can (Linux sendfile; Windows TransmitFile when the call has no
    /// deadline; other POSIX systems, and Windows with a deadline or a non-blocking socket: a
    /// positioned read and a send per 64 KiB). A range past the file's end is
    /// errc::invalid_argument (nothing sent). Returns the bytes sent (count unless `ec` is set).
    /// Blocking sockets only wait as long as `d` allows.
    std::size_t send_file(detail::file_handle_type file, std::uint64_t offset, std::size_t count,
                          deadline d = {}) {
        std::error_code ec;
        auto n = send_file(file, offset, count, d, ec);
        detail::throw_if(ec, "sockframe: send_file");
        return n;
    }
    /// The same, never throwing.
    std::size_t send_file(detail::file_handle_type file, std::uint64_t offset, std::size_t count, deadline d,
                          std::error_code& ec) noexcept {
        const std::int64_t size = detail::file_size(file, ec);
        if (ec) return 0;
        if (offset > static_cast<std::uint64_t>(size) || count > static_cast<std::uint64_t>(size) - offset) {
            ec = errc::invalid_argument;
            return 0;
        }
        const auto when = d.resolve(this->timeout_);
        const bool bounded = Mode::is_blocking && when.has_value();
        if (bounded) {
            ec = detail::set_non_blocking(this->handle_, true);
            if (ec) return 0;
        }
        std::size_t total = 0;
        while (total < count) {
            const auto at = static_cast<std::int64_t>(offset + total);
            const auto n = Mode::is_blocking && !bounded
                               ? detail::send_file_waiting(this->handle_, file, at, count - total, ec)
                               : detail::send_file_once(this->handle_, file, at, count - total, 0, ec);
            if (n > 0) {
                total += static_cast<std::size_t>(n);
                continue;
            }
            if (n == 0) {  // the file shrank meanwhile
                ec = errc::truncated_stream;
                break;
            }
            if (ec != std::errc::operation_would_block || (!bounded && !Mode::is_blocking)) break;
            ec = detail::wait_ready(this->handle_, detail::poll_out, when);
            if (ec) break;
        }
        if (bounded) {
            std::error_code restore = detail::set_non_blocking(this->handle_, false);
            if (!ec) ec = restore;
        }
        return total;
    }

    /// Gathered send: one writev of up to 64 buffers (what fits now; waits only if nothing fits).
    std::size_t write_some(const const_buffer* buffers, std::size_t count, deadline d,
                           std::error_code& ec) noexcept {
        detail::iovec_type vecs[Base::gather_limit];
        std::size_t used = this->to_iovecs(buffers, count, vecs);
        if (used == 0) {
            ec.clear();
            return 0;
        }
        auto n = this->wait_and(detail::poll_out, d.resolve(this->timeout_), ec,
                                [&](int flags, std::error_code& e) {
                                    return detail::send_vector(this->handle_, vecs, used, flags, e);
                                });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
};

/// Message calls (datagram, seqpacket, raw; connected or with a default peer): send, receive,
/// send_batch, receive_batch.
template <typename Base>
class message_calls : public Base {
    using Mode = typename Base::mode_type;

public:
    using Base::Base;

    /// Sends one message to the connected peer (whole or not at all).
    std::size_t send(const_buffer message, deadline d = {}) {
        std::error_code ec;
        auto n = send(message, d, ec);
        detail::throw_if(ec, "sockframe: send");
        return n;
    }
    std::size_t send(const_buffer message, std::error_code& ec) noexcept {
        return send(message, deadline{}, ec);
    }
    std::size_t send(const_buffer message, deadline d, std::error_code& ec) noexcept {
        auto n = this->wait_and(
            detail::poll_out, d.resolve(this->timeout_), ec, [&](int flags, std::error_code& e) {
                return detail::send_once(this->handle_, message.data(), message.size(), flags, e);
            });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    /// Sends one message gathered from up to 64 buffers (one sendmsg: one datagram or record).
    std::size_t send(const const_buffer* buffers, std::size_t count, deadline d,
                     std::error_code& ec) noexcept {
        if (count > Base::gather_limit) {
            ec = errc::invalid_argument;
            return 0;
        }
        detail::iovec_type vecs[Base::gather_limit];
        std::size_t used = this->to_iovecs(buffers, count, vecs);
        auto n = this->wait_and(detail::poll_out, d.resolve(this->timeout_), ec,
                                [&](int flags, std::error_code& e) {
                                    return detail::send_vector(this->handle_, vecs, used, flags, e);
                                });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    /// Receives one message. A message larger than `out` is errc::message_truncated (its first
    /// out.size() bytes are in `out`), never silently cut. On a seqpacket socket 0 also means
    /// end-of-stream.
    std::size_t receive(mutable_buffer out, deadline d = {}) {
        std::error_code ec;
        auto n = receive(out, d, ec);
        detail::throw_if(ec, "sockframe: receive");
        return n;
    }
    std::size_t receive(mutable_buffer out, std::error_code& ec) noexcept {
        return receive(out, deadline{}, ec);
    }
    std::size_t receive(mutable_buffer out, deadline d, std::error_code& ec) noexcept {
        bool truncated = false;
        auto n = this->wait_and(detail::poll_in, d.resolve(this->timeout_), ec,
                                [&](int flags, std::error_code& e) {
                                    return detail::receive_message(this->handle_, out.data(), out.size(),
                                                                   flags, nullptr, nullptr, truncated, e);
                                });
        if (n < 0) return 0;
        if (truncated) ec = errc::message_truncated;
        return static_cast<std::size_t>(n);
    }

    /// Copies the next message into `out` without taking it (MSG_PEEK): the next receive gets
    /// it again. A message larger than `out` is errc::message_truncated (its first bytes are in
    /// `out`, and it stays queued whole).
    std::size_t peek(mutable_buffer out, deadline d = {}) {
        std::error_code ec;
        auto n = peek(out, d, ec);
        detail::throw_if(ec, "sockframe: peek");
        return n;
    }
    /// The same, never throwing.
    std::size_t peek(mutable_buffer out, deadline d, std::error_code& ec) noexcept {
        bool truncated = false;
        auto n = this->wait_and(
            detail::poll_in, d.resolve(this->timeout_), ec, [&](int flags, std::error_code& e) {
                return detail::receive_message(this->handle_, out.data(), out.size(), flags | MSG_PEEK,
                                               nullptr, nullptr, truncated, e);
            });
        if (n < 0) return 0;
        if (truncated) ec = errc::message_truncated;
        return static_cast<std::size_t>(n);
    }

    /// The size of the next message, without taking it: waits (as receive() does) until one is
    /// there, then reports its whole size, so that a buffer can be made to fit before receive().
    /// Exact where the system can say (Linux: MSG_PEEK | MSG_TRUNC; Windows: FIONREAD gives the
    /// first datagram's size); elsewhere (BSD, macOS: FIONREAD counts every queued byte) an
    /// upper bound. On a seqpacket socket 0 is an empty record or end-of-stream.
    std::size_t next_message_size(deadline d = {}) {
        std::error_code ec;
        auto n = next_message_size(d, ec);
        detail::throw_if(ec, "sockframe: next_message_size");
        return n;
    }
    /// The same, never throwing.
    std::size_t next_message_size(std::error_code& ec) noexcept { return next_message_size(deadline{}, ec); }
    /// The same with a deadline, never throwing.
    std::size_t next_message_size(deadline d, std::error_code& ec) noexcept {
        auto n = this->wait_and(detail::poll_in, d.resolve(this->timeout_), ec,
                                [&](int flags, std::error_code& e) {
                                    return detail::peek_message_size(this->handle_, flags, e);
                                });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }

    /// Receives one message as receive() does, telling an empty record from end-of-stream on a
    /// seqpacket socket (both read as 0 bytes): `end` is set only when the peer has closed. Exact
    /// on Linux (the receive briefly turns SO_PASSCRED on: a record carries credentials, the end
    /// does not; three more system calls, so call it when next_message_size() said 0); elsewhere
    /// every 0 is end-of-stream.
    std::size_t receive(mutable_buffer out, bool& end, deadline d, std::error_code& ec) noexcept {
        auto n = this->wait_and(
            detail::poll_in, d.resolve(this->timeout_), ec, [&](int flags, std::error_code& e) {
                return detail::receive_record(this->handle_, out.data(), out.size(), flags, end, e);
            });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }

    /// Whether send_batch / receive_batch move many messages per system call here (sendmmsg and
    /// recvmmsg: Linux, FreeBSD, NetBSD); elsewhere they loop over one call per message.
    static constexpr bool batches_natively = detail::batched_messages;
    /// The most messages one system call of send_batch / receive_batch carries.
    static constexpr std::size_t batch_limit = 64;

    /// Sends each buffer as one message to the connected peer, in order, in as few system calls
    /// as the OS allows (sendmmsg: up to batch_limit per call). Returns how many were sent.
    /// Blocking: all of them unless an error (then `ec` is set and the return says how many went
    /// before it). Non-blocking: as many as fit now; none is operation_would_block.
    std::size_t send_batch(const const_buffer* messages, std::size_t count, deadline d = {}) {
        std::error_code ec;
        auto n = send_batch(messages, count, d, ec);
        detail::throw_if(ec, "sockframe: send_batch");
        return n;
    }
    std::size_t send_batch(const const_buffer* messages, std::size_t count, std::error_code& ec) noexcept {
        return send_batch(messages, count, deadline{}, ec);
    }
    std::size_t send_batch(const const_buffer* messages, std::size_t count, deadline d,
                           std::error_code& ec) noexcept {
        auto when = d.resolve(this->timeout_);
        std::size_t total = 0;
        ec.clear();
        while (total < count) {
            detail::iovec_type vecs[batch_limit];
            std::size_t chunk = count - total < batch_limit ? count - total : batch_limit;
            for (std::size_t i = 0; i < chunk; ++i)
                detail::set_iovec(vecs[i], messages[total + i].data(), messages[total + i].size());
            auto n = this->wait_and(detail::poll_out, when, ec, [&](int flags, std::error_code& e) {
                return detail::send_messages(this->handle_, vecs, chunk, flags, e);
            });
            if (n < 0) {
                if (!Mode::is_blocking && total > 0) ec.clear();
                return total;
            }
            total += static_cast<std::size_t>(n);
            if (!Mode::is_blocking && static_cast<std::size_t>(n) < chunk) return total;
        }
        return total;
    }

    /// Sends each of `messages` (each gathered from its buffers: one datagram or record) to the
    /// connected peer, in order, in as few system calls as the OS allows (sendmmsg: up to
    /// batch_limit per call); at most gather_limit buffers in all per batch_limit messages.
    /// Returns how many were sent, as send_batch does.
    std::size_t send_batch(const message_view* messages, std::size_t count, deadline d,
                           std::error_code& ec) noexcept {
        auto when = d.resolve(this->timeout_);
        std::size_t total = 0;
        ec.clear();
        while (total < count) {
            detail::iovec_type vecs[batch_limit * 4];
            detail::message_header headers[batch_limit];
            std::size_t chunk = 0, used = 0;
            for (; chunk < batch_limit && total + chunk < count; ++chunk) {
                const message_view& m = messages[total + chunk];
                if (m.count > batch_limit * 4) {
                    if (chunk == 0) {
                        ec = errc::invalid_argument;
                        return total;
                    }
                    break;
                }
                if (used + m.count > batch_limit * 4) break;
                headers[chunk] = detail::message_header{};
                headers[chunk].vecs = vecs + used;
                for (std::size_t k = 0; k < m.count; ++k)
                    detail::set_iovec(vecs[used++], m.buffers[k].data(), m.buffers[k].size());
                headers[chunk].vec_count = m.count;
            }
            auto n = this->wait_and(detail::poll_out, when, ec, [&](int flags, std::error_code& e) {
                return detail::send_headers(this->handle_, headers, chunk, flags, e);
            });
            if (n < 0) {
                if (!Mode::is_blocking && total > 0) ec.clear();
                return total;
            }
            total += static_cast<std::size_t>(n);
            if (!Mode::is_blocking && static_cast<std::size_t>(n) < chunk) return total;
        }
        return total;
    }
    /// Throwing form.
    std::size_t send_batch(const message_view* messages, std::size_t count, deadline d = {}) {
        std::error_code ec;
        auto n = send_batch(messages, count, d, ec);
        detail::throw_if(ec, "sockframe: send_batch");
        return n;
    }

    /// Receives up to `count` messages (at most batch_limit) from one system call where the OS
    /// has recvmmsg: waits (blocking mode) only for the first, then takes what is already there.
    /// Returns how many slots were filled (>= 1 unless `ec` is set). A message larger than its
    /// slot is kept in part and flagged `truncated`, not reported as an error.
    std::size_t receive_batch(message_slot* slots, std::size_t count, deadline d = {}) {
        std::error_code ec;
        auto n = receive_batch(slots, count, d, ec);
        detail::throw_if(ec, "sockframe: receive_batch");
        return n;
    }
    std::size_t receive_batch(message_slot* slots, std::size_t count, std::error_code& ec) noexcept {
        return receive_batch(slots, count, deadline{}, ec);
    }
    std::size_t receive_batch(message_slot* slots, std::size_t count, deadline d,
                              std::error_code& ec) noexcept {
        if (count > batch_limit) count = batch_limit;
        if (count == 0) {
            ec.clear();
            return 0;
        }
        detail::iovec_type vecs[batch_limit];
        detail::message_header headers[batch_limit];
        for (std::size_t i = 0; i < count; ++i)
            if (slots[i].info != nullptr) return receive_described(slots, count, d, ec);
        for (std::size_t i = 0; i < count; ++i) {
            detail::set_iovec(vecs[i], slots[i].buffer.data(), slots[i].buffer.size());
            headers[i] = detail::message_header{};
            headers[i].vecs = &vecs[i];
            headers[i].vec_count = 1;
        }
        const auto n = receive_headers_into(slots, headers, count, d, ec);
        return n;
    }

private:
    /// receive_batch for slots that want a datagram_info: the senders go straight into the
    /// infos, the ancillary data onto this frame's stack (16 KiB, not initialised).
    SOCKFRAME_NOINLINE std::size_t receive_described(message_slot* slots, std::size_t count, deadline d,
                                                     std::error_code& ec) noexcept {
        struct control_room {
            alignas(std::max_align_t) std::byte bytes[detail::datagram_control_space];
        };
        control_room control[batch_limit];
        detail::iovec_type vecs[batch_limit];
        detail::message_header headers[batch_limit];
        for (std::size_t i = 0; i < count; ++i) {
            detail::set_iovec(vecs[i], slots[i].buffer.data(), slots[i].buffer.size());
            headers[i] = detail::message_header{};
            headers[i].vecs = &vecs[i];
            headers[i].vec_count = 1;
            if (slots[i].info != nullptr) {
                headers[i].name = slots[i].info->source.data();
                headers[i].name_length = any_address::capacity();
                headers[i].control = control[i].bytes;
                headers[i].control_length = detail::datagram_control_space;
            }
        }
        return receive_headers_into(slots, headers, count, d, ec);
    }

    /// One batched receive of `headers`, then each slot's size, truncation and info.
    std::size_t receive_headers_into(message_slot* slots, detail::message_header* headers, std::size_t count,
                                     deadline d, std::error_code& ec) noexcept {
        auto n = this->wait_and(
            detail::poll_in, d.resolve(this->timeout_), ec, [&](int flags, std::error_code& e) {
                return detail::receive_headers(this->handle_, headers, count, flags,
                                               !Base::socket_type::connection_oriented, e);
            });
        if (n < 0) return 0;
        for (std::ptrdiff_t i = 0; i < n; ++i) {
            const auto& h = headers[i];
            slots[i].truncated = h.truncated;
            slots[i].size = h.size < slots[i].buffer.size() ? h.size : slots[i].buffer.size();
            slots[i].whole_size = h.size > slots[i].size ? h.size : slots[i].size;
            if (datagram_info* info = slots[i].info) {
                if (!info->source.assign_native(h.name_length)) info->source = any_address{};
                detail::fill_info(*info, h);
            }
        }
        return static_cast<std::size_t>(n);
    }
};

/// Calls with an address per message (connectionless types: datagram, raw): send_to,
/// receive_from.
template <typename Base>
class datagram_calls : public Base {
    using Mode = typename Base::mode_type;

public:
    using Base::Base;
    using address_type = typename Base::address_type;

    /// sendto counterpart: one datagram to `to`.
    std::size_t send_to(const_buffer message, const address_type& to, deadline d = {}) {
        std::error_code ec;
        auto n = send_to(message, to, d, ec);
        if (ec) throw std::system_error(ec, "sockframe: send_to " + to.to_string());
        return n;
    }
    std::size_t send_to(const_buffer message, const address_type& to, std::error_code& ec) noexcept {
        return send_to(message, to, deadline{}, ec);
    }
    std::size_t send_to(const_buffer message, const address_type& to, deadline d,
                        std::error_code& ec) noexcept {
        auto n = this->wait_and(detail::poll_out, d.resolve(this->timeout_), ec,
                                [&](int flags, std::error_code& e) {
                                    return detail::send_to_once(this->handle_, message.data(), message.size(),
                                                                flags, to.data(), to.size(), e);
                                });
        return n < 0 ? 0 : static_cast<std::size_t>(n);
    }
    /// recvfrom counterpart: one datagram and its sender. Truncation as in receive().
    received_from<address_type> receive_from(mutable_buffer out, deadline d = {}) {
        std::error_code ec;
        auto r = receive_from(out, d, ec);
        detail::throw_if(ec, "sockframe: receive_from");
        return r;
    }
    received_from<address_type> receive_from(mutable_buffer out, std::error_code& ec) noexcept {
        return receive_from(out, deadline{}, ec);
    }
    received_from<address_type> receive_from(mutable_buffer out, deadline d, std::error_code& ec) noexcept {
        received_from<address_type> r;
        bool truncated = false;
        auto n = this->wait_and(
            detail::poll_in, d.resolve(this->timeout_), ec, [&](int flags, std::error_code& e) {
                detail::socklen_type len = address_type::capacity();
                auto got = detail::receive_message(this->handle_, out.data(), out.size(), flags,
                                                   r.from.data(), &len, truncated, e);
                if (got >= 0) r.from.assign_native(len);
                return got;
            });
        if (n < 0) return r;
        r.size = static_cast<std::size_t>(n);
        if (truncated) ec = errc::message_truncated;
        return r;
    }

    /// Sends `data` to the connected peer as consecutive datagrams of `segment_size` bytes (the
    /// last one may be shorter), in as few system calls as the system allows: UDP GSO
    /// (UDP_SEGMENT, Linux 4.18+: one call and one pass through the stack for up to 64
    /// datagrams) where available, else sendmmsg / one send each. If the kernel refuses GSO
    /// (no checksum offload on the route, an old kernel) the socket stops asking and sends the
    /// datagrams one by one from then on (segmentation_offload() says which). Returns how many
    /// datagrams were sent (all of them unless `ec` is set; non-blocking: what fit now).
    std::size_t send_segments(const_buffer data, std::size_t segment_size, deadline d = {}) {
        std::error_code ec;
        auto n = send_segments(data, segment_size, d, ec);
        detail::throw_if(ec, "sockframe: send_segments");
        return n;
    }
    /// The same, never throwing.
    std::size_t send_segments(const_buffer data, std::size_t segment_size, deadline d,
                              std::error_code& ec) noexcept {
        ec.clear();
        if (segment_size == 0 || segment_size > 65507) {
            ec = errc::invalid_argument;
            return 0;
        }
        const auto when = d.resolve(this->timeout_);
        const deadline whole = when ? deadline(*when) : deadline::never();
        std::size_t per_call = 65000 / segment_size;
        if (per_call > detail::max_gso_segments) per_call = detail::max_gso_segments;
        if (per_call == 0) per_call = 1;
        std::size_t sent = 0, at = 0;
        while (at < data.size()) {
            const std::size_t chunk =
                data.size() - at < per_call * segment_size ? data.size() - at : per_call * segment_size;
            const std::size_t datagrams = (chunk + segment_size - 1) / segment_size;
            if (!gso_off_ && datagrams > 1) {
                alignas(std::max_align_t) std::byte control[32];
                const std::size_t length = detail::segment_control(control, sizeof control,
                                                                   static_cast<std::uint16_t>(segment_size));
                if (length == 0) {
                    gso_off_ = true;
                } else {
                    detail::iovec_type vec;
                    detail::set_iovec(vec, data.data() + at, chunk);
                    detail::message_header h;
                    h.vecs = &vec;
                    h.vec_count = 1;
                    h.control = control;
                    h.control_length = length;
                    auto n = this->wait_and(detail::poll_out, when, ec, [&](int flags, std::error_code& e) {
                        return detail::send_headers(this->handle_, &h, 1, flags, e);
                    });
                    if (n >= 0) {
                        sent += datagrams;
                        at += chunk;
                        continue;
                    }
                    if (!detail::gso_refused(ec)) return sent;
                    gso_off_ = true;  // the kernel cannot segment here: one datagram each from now on
                    ec.clear();
                }
            }
            const_buffer slices[detail::max_gso_segments];
            message_view views[detail::max_gso_segments];
            for (std::size_t i = 0; i < datagrams; ++i) {
                const std::size_t offset = at + i * segment_size;
                const std::size_t size =
                    data.size() - offset < segment_size ? data.size() - offset : segment_size;
                slices[i] = const_buffer(data.data() + offset, size);
                views[i] = message_view{&slices[i], 1};
            }
            const std::size_t n = this->send_batch(views, datagrams, whole, ec);
            sent += n;
            if (ec || n < datagrams) return sent;
            at += chunk;
        }
        return sent;
    }
    /// Whether send_segments still asks the kernel to segment (false once it refused, and where
    /// the system has no UDP GSO).
    bool segmentation_offload() const noexcept { return detail::has_udp_offload && !gso_off_; }
    /// Turns segmentation offload off (every datagram its own send, by sendmmsg where batched),
    /// or on again where the system has it: for a receiver that cannot keep up with GSO's rate,
    /// or to measure sendmmsg alone.
    void set_segmentation_offload(bool on) noexcept {
        gso_off_ = !on || !detail::has_udp_offload;
        if (!on) gso_worked_ = false;
    }

    /// Sends each of `messages` as one datagram to the connected peer, in order, as the gathered
    /// send_batch does, but a run of at least two consecutive messages of one size (its last may
    /// be shorter) leaves in one UDP GSO send (UDP_SEGMENT: up to 64 datagrams and 65507 bytes,
    /// gathered from the messages' buffers without a copy); other messages go by sendmmsg. Each
    /// datagram is the one send_batch would send. If the kernel refuses its first GSO send, the
    /// socket stops asking (segmentation_offload() turns false); a later refusal sends that run
    /// by sendmmsg. Returns how many messages were sent, as send_batch does.
    std::size_t send_batch_segmented(const message_view* messages, std::size_t count, deadline d,
                                     std::error_code& ec) noexcept {
        ec.clear();
        if constexpr (!offloads_v) {
            return this->send_batch(messages, count, d, ec);
        } else {
            const auto when = d.resolve(this->timeout_);
            const deadline whole = when ? deadline(*when) : deadline::never();
            std::size_t total = 0;
            while (total < count) {
                if (gso_off_) return total + this->send_batch(messages + total, count - total, whole, ec);
                std::size_t bytes = 0, segment = 0;
                const std::size_t run = segment_run(messages + total, count - total, bytes, segment);
                if (run < 2) {  // up to the next run, by sendmmsg
                    std::size_t plain = 1;
                    while (total + plain < count && plain < this->batch_limit &&
                           segment_run(messages + total + plain, count - total - plain, bytes, segment) < 2)
                        ++plain;
                    const std::size_t n = this->send_batch(messages + total, plain, whole, ec);
                    total += n;
                    if (ec || n < plain) return total;
                    continue;
                }
                detail::iovec_type vecs[gso_vecs];
                std::size_t used = 0;
                for (std::size_t i = 0; i < run; ++i) {
                    const message_view& m = messages[total + i];
                    for (std::size_t k = 0; k < m.count; ++k)
                        detail::set_iovec(vecs[used++], m.buffers[k].data(), m.buffers[k].size());
                }
                alignas(std::max_align_t) std::byte control[32];
                const std::size_t length =
                    detail::segment_control(control, sizeof control, static_cast<std::uint16_t>(segment));
                if (length == 0) {
                    gso_off_ = true;
                    continue;
                }
                detail::message_header h;
                h.vecs = vecs;
                h.vec_count = used;
                h.control = control;
                h.control_length = length;
                auto n = this->wait_and(detail::poll_out, when, ec, [&](int flags, std::error_code& e) {
                    return detail::send_headers(this->handle_, &h, 1, flags, e);
                });
                if (n >= 0) {
                    gso_worked_ = true;
                    total += run;
                    continue;
                }
                if (!detail::gso_refused(ec)) {
                    if (!Mode::is_blocking && total > 0) ec.clear();
                    return total;
                }
                ec.clear();
                if (!gso_worked_) {
                    gso_off_ = true;  // refused on the first try: sendmmsg from now on
                    continue;
                }
                const std::size_t sent = this->send_batch(messages + total, run, whole, ec);
                total += sent;
                if (ec || sent < run) return total;
            }
            return total;
        }
    }

    /// UDP GRO (UDP_GRO, Linux 5.0+): the kernel may hand over several equal-size datagrams from
    /// one sender in one buffer. Receive them with receive_batch / receive_from with a
    /// datagram_info: info.segment_size is then the size of each datagram in the buffer (the last
    /// may be shorter); 0 for a single datagram. Give such receives buffers of 64 KiB. Elsewhere:
    /// errc::not_supported.
    void enable_gro(bool on = true) {
        std::error_code ec;
        enable_gro(on, ec);
        detail::throw_if(ec, "sockframe: enable_gro");
    }
    /// The same, never throwing.
    void enable_gro(bool on, std::error_code& ec) noexcept {
        ec = detail::set_udp_gro(this->handle_, on);
        if (!ec) gro_ = on;
    }

    /// Joins the multicast `group` (IPv4 or IPv6; its port ignored) on interface
    /// `interface_index` (0: the system's choice): datagrams sent to it then arrive here (bind
    /// the group's port). MCAST_JOIN_GROUP.
    void join_group(const ip_address& group, std::uint32_t interface_index = 0) {
        std::error_code ec;
        join_group(group, interface_index, ec);
        detail::throw_if(ec, "sockframe: join_group");
    }
    /// The same, never throwing.
    void join_group(const ip_address& group, std::uint32_t interface_index, std::error_code& ec) noexcept {
        ec = detail::multicast_membership(this->handle_, true, group.data(), group.size(), nullptr, 0,
                                          interface_index);
    }
    /// Leaves a group joined with join_group.
    void leave_group(const ip_address& group, std::uint32_t interface_index = 0) {
        std::error_code ec;
        leave_group(group, interface_index, ec);
        detail::throw_if(ec, "sockframe: leave_group");
    }
    /// The same, never throwing.
    void leave_group(const ip_address& group, std::uint32_t interface_index, std::error_code& ec) noexcept {
        ec = detail::multicast_membership(this->handle_, false, group.data(), group.size(), nullptr, 0,
                                          interface_index);
    }
    /// Joins `group` for datagrams from `source` only (source-specific multicast, RFC 4607:
    /// 232.0.0.0/8, ff3x::/32). MCAST_JOIN_SOURCE_GROUP.
    void join_source_group(const ip_address& group, const ip_address& source,
                           std::uint32_t interface_index = 0) {
        std::error_code ec;
        join_source_group(group, source, interface_index, ec);
        detail::throw_if(ec, "sockframe: join_source_group");
    }
    /// The same, never throwing.
    void join_source_group(const ip_address& group, const ip_address& source, std::uint32_t interface_index,
                           std::error_code& ec) noexcept {
        ec = detail::multicast_membership(this->handle_, true, group.data(), group.size(), source.data(),
                                          source.size(), interface_index);
    }
    /// Leaves a source-specific membership.
    void leave_source_group(const ip_address& group, const ip_address& source,
                            std::uint32_t interface_index = 0) {
        std::error_code ec;
        leave_source_group(group, source, interface_index, ec);
        detail::throw_if(ec, "sockframe: leave_source_group");
    }
    /// The same, never throwing.
    void leave_source_group(const ip_address& group, const ip_address& source, std::uint32_t interface_index,
                            std::error_code& ec) noexcept {
        ec = detail::multicast_membership(this->handle_, false, group.data(), group.size(), source.data(),
                                          source.size(), interface_index);
    }
    /// The interface multicast datagrams leave by (IP_MULTICAST_IF / IPV6_MULTICAST_IF; 0: routing).
    void set_multicast_interface(std::uint32_t interface_index) {
        std::error_code ec;
        set_multicast_interface(interface_index, ec);
        detail::throw_if(ec, "sockframe: set_multicast_interface");
    }
    /// The same, never throwing.
    void set_multicast_interface(std::uint32_t interface_index, std::error_code& ec) noexcept {
        ec = detail::set_multicast(this->handle_, detail::multicast_setting::outgoing_interface,
                                   interface_index);
    }
    /// The TTL / hop limit of multicast datagrams sent (IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS;
    /// 1 by default: this link only).
    void set_multicast_hops(std::uint8_t hops) {
        std::error_code ec;
        set_multicast_hops(hops, ec);
        detail::throw_if(ec, "sockframe: set_multicast_hops");
    }
    /// The same, never throwing.
    void set_multicast_hops(std::uint8_t hops, std::error_code& ec) noexcept {
        ec = detail::set_multicast(this->handle_, detail::multicast_setting::hops, hops);
    }
    /// Whether this host's own members receive what this socket sends to a group
    /// (IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP; on by default).
    void set_multicast_loopback(bool on) {
        std::error_code ec;
        set_multicast_loopback(on, ec);
        detail::throw_if(ec, "sockframe: set_multicast_loopback");
    }
    /// The same, never throwing.
    void set_multicast_loopback(bool on, std::error_code& ec) noexcept {
        ec = detail::set_multicast(this->handle_, detail::multicast_setting::loopback, on ? 1u : 0u);
    }

    /// Asks the kernel to report `what` with every datagram (IP_PKTINFO / IPV6_RECVPKTINFO,
    /// IP_RECVTOS / IPV6_RECVTCLASS, IP_RECVTTL / IPV6_RECVHOPLIMIT, SO_TIMESTAMPNS); `on` false
    /// turns them off. The receive calls that take a datagram_info then fill it. Windows:
    /// IP_PKTINFO / IPV6_PKTINFO, IP_RECVTOS / IPV6_RECVTCLASS (10 1903 and later), IP_HOPLIMIT /
    /// IPV6_HOPLIMIT, received with WSARecvMsg; metadata::timestamp is errc::not_supported there
    /// (the kinds before it are then already on). Unix sockets: errc::not_supported.
    void enable_metadata(metadata what, bool on = true) {
        std::error_code ec;
        enable_metadata(what, on, ec);
        detail::throw_if(ec, "sockframe: enable_metadata");
    }
    /// The same, never throwing.
    void enable_metadata(metadata what, bool on, std::error_code& ec) noexcept {
        ec = detail::enable_datagram_info(this->handle_, static_cast<unsigned>(what), on);
    }

    /// Receives one datagram into `out` and describes it in `info` (its sender, its size, and the
    /// metadata enable_metadata asked for). Returns the bytes in `out`. A datagram larger than
    /// `out` is errc::message_truncated (info.size: its whole size on Linux).
    std::size_t receive_from(mutable_buffer out, datagram_info& info, deadline d = {}) {
        std::error_code ec;
        auto n = receive_from(out, info, d, ec);
        detail::throw_if(ec, "sockframe: receive_from");
        return n;
    }
    /// The same, never throwing.
    std::size_t receive_from(mutable_buffer out, datagram_info& info, deadline d,
                             std::error_code& ec) noexcept {
        message_slot slot;
        slot.buffer = out;
        slot.info = &info;
        const std::size_t n = this->receive_batch(&slot, 1, d, ec);
        if (ec || n == 0) return 0;
        if (slot.truncated) ec = errc::message_truncated;
        return slot.size;
    }

    /// sendto from a chosen source: the datagram leaves from `source.address` (a local address;
    /// its port is ignored: the socket's is used) and/or interface `source.interface_index`
    /// (IP_PKTINFO / IPV6_PKTINFO; Windows: with WSASendMsg). Where the system cannot (BSD and
    /// macOS for IPv4): errc::not_supported.
    std::size_t send_to(const_buffer message, const address_type& to, const datagram_source& source,
                        deadline d = {}) {
        std::error_code ec;
        auto n = send_to(message, to, source, d, ec);
        if (ec) throw std::system_error(ec, "sockframe: send_to " + to.to_string());
        return n;
    }
    /// The same, never throwing.
    std::size_t send_to(const_buffer message, const address_type& to, const datagram_source& source,
                        deadline d, std::error_code& ec) noexcept {
        alignas(std::max_align_t) std::byte control[64];
        const std::size_t length =
            detail::source_control(control, sizeof control, source.address.data(), source.interface_index);
        if (length == 0) {
            ec = errc::not_supported;
            return 0;
        }
        detail::iovec_type vec;
        detail::set_iovec(vec, message.data(), message.size());
        detail::message_header h;
        h.vecs = &vec;
        h.vec_count = 1;
        h.name = const_cast<::sockaddr*>(to.data());
        h.name_length = to.size();
        h.control = control;
        h.control_length = length;
        auto n = this->wait_and(detail::poll_out, d.resolve(this->timeout_), ec,
                                [&](int flags, std::error_code& e) {
                                    return detail::send_headers(this->handle_, &h, 1, flags, e);
                                });
        return n < 0 ? 0 : message.size();
    }

    /// Whether enable_gro turned UDP GRO on through this object (a batched framed receive then
    /// splits coalesced buffers back into datagrams).
    bool gro_enabled() const noexcept { return gro_; }

private:
#if defined(SOCKFRAME_HAS_AF_UNIX)
    /// Whether this is a Unix-domain socket.
    static constexpr bool unix_family_v = std::is_same_v<typename Base::family_type, local>;
#else
    static constexpr bool unix_family_v = false;
#endif
    /// UDP sockets where the system has GSO (not Unix or raw ones).
    static constexpr bool offloads_v =
        detail::has_udp_offload && !unix_family_v && std::is_same_v<typename Base::socket_type, datagram>;
    /// The most iovecs one GSO send of send_batch_segmented gathers.
    static constexpr std::size_t gso_vecs = 256;

    /// How many of `messages` (at least 1 when count > 0) make one GSO send: equal sizes, the
    /// last may be shorter, within the kernel's limits; `bytes` and `segment` say their total
    /// and the segment size.
    static std::size_t segment_run(const message_view* messages, std::size_t count, std::size_t& bytes,
                                   std::size_t& segment) noexcept {
        bytes = segment = 0;
        std::size_t run = 0, vecs = 0;
        for (; run < count && run < detail::max_gso_segments; ++run) {
            const message_view& m = messages[run];
            std::size_t size = 0;
            for (std::size_t k = 0; k < m.count; ++k) size += m.buffers[k].size();
            if (run == 0) segment = size;
            if (size == 0 || size > segment || bytes + size > 65507 || vecs + m.count > gso_vecs) break;
            bytes += size;
            vecs += m.count;
            if (size < segment) return run + 1;
        }
        return run == 0 && count > 0 ? 1 : run;
    }

    bool gso_off_ = !detail::has_udp_offload;  // set once the kernel refused to segment
    bool gso_worked_ = false;                  // a GSO send went through on this socket
    bool gro_ = false;                         // enable_gro(true) succeeded
};

/// The layers a socket of `Type` is made of.
template <typename Family, typename Type, typename Mode>
using socket_layers_t = std::conditional_t<
    Type::message_oriented,
    std::conditional_t<Type::connection_oriented, message_calls<socket_core<Family, Type, Mode>>,
                       datagram_calls<message_calls<socket_core<Family, Type, Mode>>>>,
    stream_calls<socket_core<Family, Type, Mode>>>;
}  // namespace detail

/// A socket of `Family` (ipv4, ipv6, ip, any_family, local), `Type` (stream, datagram,
/// seqpacket, raw) and `Mode` (blocking, non_blocking). What it offers follows from its Type:
/// stream calls on stream types, message calls on message types, send_to/receive_from on
/// connectionless ones; a call that does not fit the type does not exist (a compile error).
template <typename Family, typename Type, typename Mode = blocking>
class basic_socket : public detail::socket_layers_t<Family, Type, Mode> {
    using base = detail::socket_layers_t<Family, Type, Mode>;

public:
    using base::bind;
    using base::close;
    using base::connect_to;
    using typename base::address_type;
    using typename base::duration;
    using typename base::family_type;
    using typename base::mode_type;
    using typename base::native_handle_type;
    using typename base::socket_type;

    /// A closed socket (no descriptor).
    basic_socket() noexcept = default;
    /// Adopts an open descriptor, which this object then closes. Its blocking flag is not changed.
    explicit basic_socket(native_handle_type handle) noexcept : base(handle) {}
    /// Opens a socket and binds it to `local` (the usual start of a UDP socket).
    explicit basic_socket(const address_type& local, int protocol = 0) {
        std::error_code ec;
        *this = basic_socket(local, protocol, ec);
        detail::throw_if(ec, "sockframe: bind");
    }
    /// Opens and binds, never throwing; `ec` says what failed (the socket is then closed).
    basic_socket(const address_type& local, std::error_code& ec) noexcept : basic_socket(local, 0, ec) {}
    /// Opens a socket and binds it to `local`, never throwing.
    basic_socket(const address_type& local, int protocol, std::error_code& ec) noexcept {
        *this = open_for(local, protocol, ec);
        if (!ec) bind(local, ec);
        if (ec) close();
    }
    /// Converts between blocking and non_blocking modes of the same socket.
    template <typename OtherMode, typename = std::enable_if_t<!std::is_same_v<OtherMode, Mode>>>
    explicit basic_socket(basic_socket<Family, Type, OtherMode>&& other) : base(other.release()) {
        this->timeout_ = other.timeout();
        native_handle_type h = this->native_handle();
        if (h != detail::invalid_handle) {
            std::error_code ec = detail::set_non_blocking(h, !Mode::is_blocking);
            detail::throw_if(ec, "sockframe: change blocking mode");
        }
    }

    /// Widens the family of a socket of the same type and mode: a tcp_stream or tcp6_stream
    /// becomes an ip_tcp_stream, any TCP or Unix stream an any_stream (one handler for both).
    template <typename OtherFamily,
              typename = std::enable_if_t<detail::family_converts_v<OtherFamily, Family>>>
    basic_socket(
        basic_socket<OtherFamily, Type, Mode>&& other) noexcept  // NOLINT(google-explicit-constructor)
        : base(other.release()) {
        this->timeout_ = other.timeout();
    }

    basic_socket(const basic_socket&) = delete;
    basic_socket& operator=(const basic_socket&) = delete;
    /// Takes `other`'s descriptor and settings; `other` is closed.
    basic_socket(basic_socket&&) noexcept = default;
    /// Closes this socket, then takes `other`'s descriptor and settings.
    basic_socket& operator=(basic_socket&&) noexcept = default;
    /// Closes the descriptor.
    ~basic_socket() = default;

    /// Opens an unbound socket (protocol 0 = the family's default; e.g. IPPROTO_ICMP for raw).
    static basic_socket open(int protocol = 0) {
        std::error_code ec;
        auto s = open(protocol, ec);
        detail::throw_if(ec, "sockframe: socket");
        return s;
    }
    /// open(), never throwing.
    static basic_socket open(std::error_code& ec) noexcept { return open(0, ec); }
    /// open(protocol), never throwing.
    static basic_socket open(int protocol, std::error_code& ec) noexcept {
        return basic_socket(
            detail::open_socket(Family::domain(), Type::value(), protocol, !Mode::is_blocking, ec));
    }
    /// Opens an unbound socket of the address family `address` is in (the runtime `ip` family
    /// chooses IPv4 or IPv6 here; fixed families always use theirs).
    static basic_socket open_for(const address_type& address, int protocol, std::error_code& ec) noexcept {
        return basic_socket(detail::open_socket(detail::domain_of(address.data()), Type::value(), protocol,
                                                !Mode::is_blocking, ec));
    }

    /// Connects a new socket to `remote`, waiting at most until `d` (a real deadline: the
    /// connection attempt itself is bounded, not only each system call).
    static basic_socket connect(const address_type& remote, deadline d = {}) {
        std::error_code ec;
        auto s = connect(remote, d, ec);
        if (ec) throw std::system_error(ec, "sockframe: connect to " + remote.to_string());
        return s;
    }
    /// connect_ex: connects, never throwing; on failure `ec` is set and the socket returned is closed.
    static basic_socket connect(const address_type& remote, std::error_code& ec) noexcept {
        return connect(remote, deadline{}, ec);
    }
    /// connect(remote, d), never throwing: std::errc::timed_out when `d` passes first.
    static basic_socket connect(const address_type& remote, deadline d, std::error_code& ec) noexcept {
        auto s = open_for(remote, 0, ec);
        if (ec) return s;
        s.connect_to(remote, d, ec);
        // a non-blocking connect goes on after operation_in_progress: keep that socket
        if (ec && (Mode::is_blocking || ec != std::errc::operation_in_progress)) s.close();
        return s;
    }

    /// Resolves `host`/`service` and tries each address in order until one connects; `d` bounds
    /// the whole attempt, shared across the candidates. On failure the error is the last
    /// candidate's (timed_out once `d` passed), or the resolver's. A non-blocking socket is
    /// connected the same way (waiting up to `d`), then returned in its non-blocking mode.
    static basic_socket connect(std::string_view host, std::string_view service, deadline d = {}) {
        return connect(host, service, connect_options{}, d);
    }
    /// The same, never throwing.
    static basic_socket connect(std::string_view host, std::string_view service, std::error_code& ec) {
        return connect(host, service, connect_options{}, deadline{}, ec);
    }
    /// The same with a deadline, never throwing.
    static basic_socket connect(std::string_view host, std::string_view service, deadline d,
                                std::error_code& ec) {
        return connect(host, service, connect_options{}, d, ec);
    }
    /// The same with options: connect_options::happy_eyeballs races the candidates (RFC 8305).
    static basic_socket connect(std::string_view host, std::string_view service,
                                const connect_options& options, deadline d = {}) {
        std::error_code ec;
        auto s = connect(host, service, options, d, ec);
        if (ec)
            throw std::system_error(
                ec, "sockframe: connect to " + std::string(host) + ":" + std::string(service));
        return s;
    }
    /// The same with options, never throwing.
    static basic_socket connect(std::string_view host, std::string_view service,
                                const connect_options& options, deadline d, std::error_code& ec) {
        auto when = d.resolve(std::nullopt);  // measured from now, before the resolver's time
        detail::array_list<address_type> candidates;
        ec = detail::resolve_into<Family>(host, service, false, candidates);
        if (ec) return basic_socket{};
        return connect(candidates, options, when ? deadline(*when) : deadline::never(), ec);
    }
    /// Tries each of `candidates` (a contiguous list of addresses: the std::vector resolve()
    /// returns, a std::array, ...) in order (or races them: connect_options::happy_eyeballs)
    /// until one connects, all within `d`. On failure `ec` is the last candidate's error
    /// (timed_out once `d` passed; invalid_argument for an empty list).
    template <typename Candidates,
              typename = std::enable_if_t<detail::is_address_list<Candidates, address_type>::value>>
    static basic_socket connect(const Candidates& candidates, const connect_options& options, deadline d,
                                std::error_code& ec) noexcept {
        auto when = d.resolve(std::nullopt);
        const address_type* first = candidates.data();
        const std::size_t count = candidates.size();
        if (count == 0) {
            ec = errc::invalid_argument;
            return basic_socket{};
        }
        using blocking_socket = basic_socket<Family, Type, blocking>;
        blocking_socket s =
            options.happy_eyeballs
                ? detail::connect_racing<blocking_socket>(first, count, options.attempt_delay, when, ec)
                : detail::connect_in_order<blocking_socket>(first, count, when, ec);
        if (ec) return basic_socket{};
        if constexpr (Mode::is_blocking) {
            return s;
        } else {
            native_handle_type h = s.release();
            ec = detail::set_non_blocking(h, true);
            basic_socket result(h);
            if (ec) result.close();
            return result;
        }
    }
    /// Throwing form of connect(candidates, options, d, ec).
    template <typename Candidates,
              typename = std::enable_if_t<detail::is_address_list<Candidates, address_type>::value>>
    static basic_socket connect(const Candidates& candidates, const connect_options& options = {},
                                deadline d = {}) {
        std::error_code ec;
        auto s = connect(candidates, options, d, ec);
        detail::throw_if(ec, "sockframe: connect");
        return s;
    }
};

namespace detail {
/// One candidate after the other, one deadline for them all; the last error wins.
template <typename Socket>
Socket connect_in_order(const typename Socket::address_type* candidates, std::size_t count,
                        const std::optional<clock::time_point>& when, std::error_code& ec) noexcept {
    const deadline whole = when ? deadline(*when) : deadline::never();
    ec = errc::invalid_argument;
    for (std::size_t c = 0; c < count; ++c) {
        const auto& address = candidates[c];
        if (when && clock::now() >= *when) {
            ec = timed_out_error();
            break;
        }
        std::error_code attempt;
        auto s = Socket::connect(address, whole, attempt);
        if (!attempt) {
            ec.clear();
            return s;
        }
        ec = attempt;
    }
    return Socket{};
}

/// The candidates reordered as RFC 8305 asks: families alternating, the first address's first.
template <typename Address>
array_list<std::size_t> interleave_families(const Address* candidates, std::size_t count) {
    array_list<std::size_t> first, other, order;
    const int lead = domain_of(candidates[0].data());
    for (std::size_t i = 0; i < count; ++i)
        (domain_of(candidates[i].data()) == lead ? first : other).push_back(i);
    for (std::size_t i = 0; i < first.size() || i < other.size(); ++i) {
        if (i < first.size()) order.push_back(first[i]);
        if (i < other.size()) order.push_back(other[i]);
    }
    return order;
}

/// Happy Eyeballs: staggered non-blocking attempts watched together by poll(); first success wins.
template <typename Socket>
Socket connect_racing(const typename Socket::address_type* candidates, std::size_t count,
                      std::chrono::milliseconds delay, const std::optional<clock::time_point>& when,
                      std::error_code& ec) noexcept {
    using attempt_socket =
        basic_socket<typename Socket::family_type, typename Socket::socket_type, non_blocking>;
    // The attempts' descriptors, in start order (invalid_handle: not started, or failed and
    // closed); those still open when the race ends are closed with it.
    struct attempt_handles {
        array_list<native_handle_type> at;
        ~attempt_handles() {
            for (native_handle_type h : at)
                if (h != invalid_handle) close_handle(h);
        }
        void close(std::size_t i) noexcept { close_handle(std::exchange(at[i], invalid_handle)); }
    };
    try {
        const array_list<std::size_t> order = interleave_families(candidates, count);
        attempt_handles attempts;
        attempts.at.resize(order.size(), invalid_handle);
        array_list<pollfd_type> watched(order.size());  // the attempts in progress, packed
        array_list<std::size_t> watched_attempt(order.size());
        std::size_t next = 0, active = 0;
        auto next_start = clock::now();
        std::error_code last = errc::invalid_argument;
        auto win = [&](std::size_t i) {
            ec.clear();
            native_handle_type h = std::exchange(attempts.at[i], invalid_handle);
            std::error_code mode = set_non_blocking(h, false);
            Socket s(h);
            if (mode) {
                ec = mode;
                s.close();
            }
            return s;  // the other attempts close with `attempts`
        };
        for (;;) {
            auto now = clock::now();
            if (when && now >= *when) {
                ec = timed_out_error();
                return Socket{};
            }
            // Start the next attempt when its time has come, or at once when none is running.
            while (next < order.size() && (active == 0 || now >= next_start)) {
                std::size_t i = next++;
                const auto& address = candidates[order[i]];
                std::error_code e;
                attempts.at[i] = attempt_socket::open_for(address, 0, e).release();
                if (!e) e = connect_socket(attempts.at[i], address.data(), address.size());
                if (!e) return win(i);
                if (e == std::errc::operation_in_progress) {
                    ++active;
                    next_start = clock::now() + delay;
                    break;
                }
                last = e;
                if (attempts.at[i] != invalid_handle) attempts.close(i);
            }
            if (active == 0 && next >= order.size()) {
                ec = last;
                return Socket{};
            }
            std::optional<clock::time_point> until = when;
            if (next < order.size() && (!until || next_start < *until)) until = next_start;
            std::size_t n = 0;
            for (std::size_t i = 0; i < next; ++i) {
                if (attempts.at[i] == invalid_handle) continue;
                watched[n] = pollfd_type{};
                watched[n].fd = attempts.at[i];
                watched[n].events = poll_out;
                watched_attempt[n++] = i;
            }
            if (poll_handles(watched.data(), n, until, ec) < 0) return Socket{};
            for (std::size_t k = 0; k < n; ++k) {
                if (watched[k].revents == 0) continue;
                const std::size_t i = watched_attempt[k];
                std::error_code outcome = pending_error(attempts.at[i]);
                if (!outcome) return win(i);
                last = outcome;
                attempts.close(i);
                --active;
                next_start = clock::now();  // a failure starts the next attempt at once
            }
        }
    } catch (const std::bad_alloc&) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        return Socket{};
    }
}
}  // namespace detail

/// socketpair counterpart: two connected local sockets (Unix stream, datagram or seqpacket).
/// Not on Windows (errc::not_supported).
template <typename Socket>
std::pair<Socket, Socket> socketpair(std::error_code& ec) noexcept {
    detail::native_handle_type handles[2];
    ec = detail::make_socketpair(Socket::family_type::domain(), Socket::socket_type::value(),
                                 !Socket::mode_type::is_blocking, handles);
    if (ec) return {};
    return {Socket(handles[0]), Socket(handles[1])};
}
/// Throwing socketpair.
template <typename Socket>
std::pair<Socket, Socket> socketpair() {
    std::error_code ec;
    auto p = socketpair<Socket>(ec);
    detail::throw_if(ec, "sockframe: socketpair");
    return p;
}

/// TCP over IPv4.
using tcp_stream = basic_socket<ipv4, stream>;
/// TCP over IPv6.
using tcp6_stream = basic_socket<ipv6, stream>;
/// UDP over IPv4.
using udp_socket = basic_socket<ipv4, datagram>;
/// UDP over IPv6.
using udp6_socket = basic_socket<ipv6, datagram>;
#if defined(SOCKFRAME_HAS_AF_UNIX)
/// Unix-domain stream socket (Windows 10 1803+ too).
using unix_stream = basic_socket<local, stream>;
#if defined(SOCKFRAME_POSIX)
/// Unix-domain datagram socket (POSIX).
using unix_datagram = basic_socket<local, datagram>;
/// Unix-domain seqpacket socket (POSIX; not macOS).
using unix_seqpacket = basic_socket<local, seqpacket>;
#endif
#endif

/// TCP over IPv4 or IPv6, chosen at run time (connect by name, dual-stack listeners).
using ip_tcp_stream = basic_socket<ip, stream>;
/// UDP over IPv4 or IPv6, chosen at run time (by the address bound or connected to).
using ip_udp_socket = basic_socket<ip, datagram>;
/// A connected stream of any family: TCP (IPv4, IPv6) or Unix domain. Made from any of them
/// (`sf::any_stream s = std::move(tcp);`) or accepted from an any_listener.
using any_stream = basic_socket<any_family, stream>;

// Non-blocking aliases: the same names with `_nb` (Python's setblocking(False), Asio's
// non_blocking(true)): every call returns at once, "not now" is operation_would_block. For use
// with the poller; convert an existing socket with `tcp_stream_nb nb{std::move(s)}`.

/// Non-blocking TCP over IPv4.
using tcp_stream_nb = basic_socket<ipv4, stream, non_blocking>;
/// Non-blocking TCP over IPv6.
using tcp6_stream_nb = basic_socket<ipv6, stream, non_blocking>;
/// Non-blocking UDP over IPv4.
using udp_socket_nb = basic_socket<ipv4, datagram, non_blocking>;
/// Non-blocking UDP over IPv6.
using udp6_socket_nb = basic_socket<ipv6, datagram, non_blocking>;
/// Non-blocking TCP over IPv4 or IPv6.
using ip_tcp_stream_nb = basic_socket<ip, stream, non_blocking>;
/// Non-blocking UDP over IPv4 or IPv6.
using ip_udp_socket_nb = basic_socket<ip, datagram, non_blocking>;
/// Non-blocking stream of any family.
using any_stream_nb = basic_socket<any_family, stream, non_blocking>;
#if defined(SOCKFRAME_HAS_AF_UNIX)
/// Non-blocking Unix-domain stream socket.
using unix_stream_nb = basic_socket<local, stream, non_blocking>;
#if defined(SOCKFRAME_POSIX)
/// Non-blocking Unix-domain datagram socket.
using unix_datagram_nb = basic_socket<local, datagram, non_blocking>;
/// Non-blocking Unix-domain seqpacket socket.
using unix_seqpacket_nb = basic_socket<local, seqpacket, non_blocking>;
#endif
#endif

SOCKFRAME_NAMESPACE_END
