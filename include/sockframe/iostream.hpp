// SPDX-License-Identifier: MIT
#pragma once
/// The makefile counterpart: a std::streambuf and a std::iostream over a blocking stream socket,
/// for text protocols (`ios << "HELLO\n" << std::flush; std::getline(ios, line);`).
///
/// Errors: end-of-stream is eofbit (as for a file). Any other failure (the socket's timeout, a
/// reset, a broken pipe) sets badbit; error() then tells which. After a read timeout nothing is
/// lost: clear() the stream and read again; a read(n) that had taken some bytes before the timeout
/// gives them back, so the next read returns them first (a getline keeps the characters it took in
/// its string, as std::getline does for every failure). After a write error the unsent output is
/// discarded.
///
/// Thread safety: one stream is used by one thread at a time.

#include <sockframe/buffer.hpp>
#include <sockframe/config.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/error.hpp>
#include <sockframe/socket.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string_view>
#include <system_error>
#include <utility>

SOCKFRAME_NAMESPACE_BEGIN

/// A std::streambuf over a blocking stream socket (owned or referenced), with its own get and put
/// areas. Every socket call uses the socket's timeout (set_timeout). Before a read has to wait
/// for the peer, pending output is sent first, so a request/response exchange cannot deadlock on
/// a forgotten flush. A read failure other than end-of-stream throws std::system_error out of
/// underflow (an istream turns that into badbit); a write failure makes overflow/sync fail.
template <typename Socket>
class basic_socket_streambuf : public std::streambuf {
    static_assert(Socket::mode_type::is_blocking, "basic_socket_streambuf needs a blocking socket");
    static_assert(!Socket::socket_type::message_oriented, "basic_socket_streambuf needs a stream socket");

public:
    /// The socket type.
    using socket_type = Socket;
    /// The size of each of the two buffers (get and put) by default.
    static constexpr std::size_t default_buffer_size = SOCKFRAME_IOSTREAM_BUFFER_SIZE;

    /// Owns `s` (closed with this buffer).
    explicit basic_socket_streambuf(Socket&& s, std::size_t buffer_size = default_buffer_size)
        : owned_(std::move(s)), socket_(&*owned_) {
        allocate(buffer_size);
    }
    /// Refers to `s`, which must outlive this buffer and stays open after it.
    explicit basic_socket_streambuf(Socket& s, std::size_t buffer_size = default_buffer_size) : socket_(&s) {
        allocate(buffer_size);
    }
    basic_socket_streambuf(const basic_socket_streambuf&) = delete;
    basic_socket_streambuf& operator=(const basic_socket_streambuf&) = delete;
    /// Sends pending output (errors ignored), then closes the socket if owned.
    ~basic_socket_streambuf() override {
        std::error_code ec;
        flush(ec);
    }

    /// The socket: for options, set_timeout, shutdown. Flush before using it to write directly.
    Socket& socket() noexcept { return *socket_; }
    /// The socket.
    const Socket& socket() const noexcept { return *socket_; }
    /// The error of the last socket call that failed (empty after a successful one). End-of-stream
    /// is not an error.
    const std::error_code& error() const noexcept { return error_; }

    /// Sends pending output, then closes the socket (owned or not).
    void close(std::error_code& ec) noexcept {
        flush(ec);
        socket_->close();
        setg(get_begin(), get_begin(), get_begin());
    }

    /// Sends what is in the put area. Returns false (and sets error()) on failure.
    bool flush(std::error_code& ec) noexcept {
        auto pending = static_cast<std::size_t>(pptr() - pbase());
        ec.clear();
        if (pending == 0) return true;
        if (!socket_->is_open()) {
            ec = std::make_error_code(std::errc::not_connected);
        } else {
            socket_->write_all(const_buffer(pbase(), pending), ec);
        }
        setp(put_begin(), put_begin() + buffer_size_);  // sent, or discarded after an error
        error_ = ec;
        return !ec;
    }

protected:
    /// Refills the get area with one receive; end-of-stream and errors are eof.
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        std::size_t n = read_into(get_begin(), get_capacity_);
        if (n == 0) return traits_type::eof();
        setg(get_begin(), get_begin(), get_begin() + n);
        return traits_type::to_int_type(*gptr());
    }

    /// Sends the put area (and `c`) whole; an error is eof.
    int_type overflow(int_type c) override {
        std::error_code ec;
        if (!flush(ec)) return traits_type::eof();
        if (!traits_type::eq_int_type(c, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(c);
            pbump(1);
        }
        return traits_type::not_eof(c);
    }

    /// Sends the put area whole: 0, or -1 on an error.
    int sync() override {
        std::error_code ec;
        return flush(ec) ? 0 : -1;
    }

    /// Writes `n` bytes: through the put area, or large ones straight to the socket.
    std::streamsize xsputn(const char_type* s, std::streamsize n) override {
        if (n <= 0) return 0;
        auto size = static_cast<std::size_t>(n);
        auto room = static_cast<std::size_t>(epptr() - pptr());
        if (size <= room) {
            std::memcpy(pptr(), s, size);
            pbump(static_cast<int>(size));
            return n;
        }
        std::error_code ec;
        if (!flush(ec)) return 0;
        if (size < buffer_size_) {
            std::memcpy(pptr(), s, size);
            pbump(static_cast<int>(size));
            return n;
        }
        // a large write goes straight to the socket, without a copy
        auto sent = socket_->write_all(const_buffer(s, size), ec);
        error_ = ec;
        return static_cast<std::streamsize>(sent);
    }

    /// Reads up to `n` bytes: the get area first, then large reads straight from the socket.
    std::streamsize xsgetn(char_type* s, std::streamsize n) override {
        if (n <= 0) return 0;
        auto wanted = static_cast<std::size_t>(n);
        std::size_t copied = 0;
        try {
            while (copied < wanted) {
                auto available = static_cast<std::size_t>(egptr() - gptr());
                if (available > 0) {
                    std::size_t take = (std::min)(available, wanted - copied);
                    std::memcpy(s + copied, gptr(), take);
                    gbump(static_cast<int>(take));
                    copied += take;
                    continue;
                }
                std::size_t got;
                if (wanted - copied >= buffer_size_) {
                    got = read_into(s + copied, wanted - copied);  // large: straight into the caller's memory
                    copied += got;
                } else {
                    got = read_into(get_begin(), get_capacity_);
                    setg(get_begin(), get_begin(), get_begin() + got);
                }
                if (got == 0) break;  // end-of-stream
            }
        } catch (...) {
            // The istream reports a failed read as extracting nothing: give the bytes already
            // taken back to the get area, so that the next read (after clear()) returns them.
            if (copied > 0) unread(s, copied);
            throw;
        }
        return static_cast<std::streamsize>(copied);
    }

    /// -1 once the socket is closed, else 0 (unknown).
    std::streamsize showmanyc() override { return !socket_->is_open() ? -1 : 0; }

private:
    char* get_begin() noexcept { return get_.get(); }
    char* put_begin() noexcept { return put_.get(); }

    void allocate(std::size_t size) {
        buffer_size_ = std::max<std::size_t>(size, 1);
        get_capacity_ = buffer_size_;
        get_ = std::make_unique<char[]>(get_capacity_);
        put_ = std::make_unique<char[]>(buffer_size_);
        setg(get_begin(), get_begin(), get_begin());
        setp(put_begin(), put_begin() + buffer_size_);
    }

    /// Puts `n` bytes taken by a read that then failed back in front of the (empty) get area,
    /// growing it if they do not fit.
    void unread(const char* bytes, std::size_t n) {
        if (n > get_capacity_) {
            get_ = std::make_unique<char[]>(n);
            get_capacity_ = n;
        }
        std::memmove(get_begin(), bytes, n);
        setg(get_begin(), get_begin(), get_begin() + n);
    }

    /// One read_some (after sending pending output); 0 = end-of-stream; throws on failure.
    std::size_t read_into(char* out, std::size_t size) {
        std::error_code ec;
        if (!flush(ec)) throw std::system_error(ec, "sockframe: socket stream write");
        if (!socket_->is_open()) {
            error_ = std::make_error_code(std::errc::not_connected);
            throw std::system_error(error_, "sockframe: socket stream read");
        }
        std::size_t n = socket_->read_some(mutable_buffer(out, size), ec);
        error_ = ec;
        if (ec) throw std::system_error(ec, "sockframe: socket stream read");
        return n;
    }

    std::optional<Socket> owned_;
    Socket* socket_;
    std::unique_ptr<char[]> get_;  // the get area (grown only to give back a failed read's bytes)
    std::unique_ptr<char[]> put_;  // the put area
    std::size_t buffer_size_ = 0;
    std::size_t get_capacity_ = 0;
    std::error_code error_;
};

/// A std::iostream over a blocking stream socket, owned (constructed from an rvalue) or referenced
/// (from an lvalue, which must outlive the stream). `flush` sends; reading first sends what is
/// pending. End-of-stream sets eofbit; a timeout or another socket error sets badbit (and throws
/// the std::system_error if badbit is in exceptions()); error() tells which.
template <typename Socket>
class basic_socket_iostream : public std::iostream {
public:
    /// The socket type.
    using socket_type = Socket;
    /// The streambuf type underneath.
    using streambuf_type = basic_socket_streambuf<Socket>;

    /// An iostream that owns `s`.
    explicit basic_socket_iostream(Socket&& s, std::size_t buffer_size = streambuf_type::default_buffer_size)
        : std::iostream(nullptr), buf_(std::move(s), buffer_size) {
        init(&buf_);
    }
    /// An iostream over `s`, which must outlive it.
    explicit basic_socket_iostream(Socket& s, std::size_t buffer_size = streambuf_type::default_buffer_size)
        : std::iostream(nullptr), buf_(s, buffer_size) {
        init(&buf_);
    }
    /// Connects to `host`:`service` (within `d`). On failure the stream is in failbit and
    /// error() says why, as an fstream whose file does not open.
    basic_socket_iostream(std::string_view host, std::string_view service, deadline d = {})
        : std::iostream(nullptr), buf_(Socket{}) {
        init(&buf_);
        std::error_code ec;
        buf_.socket() = Socket::connect(host, service, d, ec);
        if (ec) {
            connect_error_ = ec;
            setstate(std::ios_base::failbit);
        }
    }
    basic_socket_iostream(const basic_socket_iostream&) = delete;
    basic_socket_iostream& operator=(const basic_socket_iostream&) = delete;

    /// The socket streambuf.
    streambuf_type* rdbuf() const noexcept { return const_cast<streambuf_type*>(&buf_); }
    /// The socket (for set_timeout, options, shutdown).
    Socket& socket() noexcept { return buf_.socket(); }
    /// The socket.
    const Socket& socket() const noexcept { return buf_.socket(); }
    /// Why the stream failed: the last socket error (timed_out, connection_reset, ...), or the
    /// connect error; empty at plain end-of-stream.
    std::error_code error() const noexcept { return buf_.error() ? buf_.error() : connect_error_; }

    /// Sends pending output and closes the socket; badbit if the output could not be sent.
    void close() {
        std::error_code ec;
        buf_.close(ec);
        if (ec) setstate(std::ios_base::badbit);
    }

private:
    streambuf_type buf_;
    std::error_code connect_error_;
};

// Class template argument deduction works from the constructors:
// `sf::basic_socket_iostream ios{std::move(sock)}` owns, `sf::basic_socket_iostream ios{sock}` refers.

/// A streambuf / iostream over TCP (IPv4), the usual makefile().
using socket_streambuf = basic_socket_streambuf<tcp_stream>;
/// An iostream over TCP (IPv4), the usual makefile().
using socket_iostream = basic_socket_iostream<tcp_stream>;
/// The same over TCP/IPv6.
using tcp6_iostream = basic_socket_iostream<tcp6_stream>;
/// The same over TCP, IPv4 or IPv6 as the name resolves (connects by name across both).
using ip_tcp_iostream = basic_socket_iostream<ip_tcp_stream>;
/// The same over any stream (TCP or Unix domain).
using any_iostream = basic_socket_iostream<any_stream>;
#if defined(SOCKFRAME_HAS_AF_UNIX)
/// The same over a Unix-domain stream socket.
using unix_iostream = basic_socket_iostream<unix_stream>;
#endif

SOCKFRAME_NAMESPACE_END
