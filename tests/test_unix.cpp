#include <sockframe/unix.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

#if defined(SOCKFRAME_POSIX)
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {
/// Open descriptors of this process (/proc/self/fd, or /dev/fd where there is no /proc).
std::size_t open_descriptors() {
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) d = ::opendir("/dev/fd");
    REQUIRE(d != nullptr);
    std::size_t n = 0;
    while (::dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n - 1;  // the directory's own descriptor
}

/// A pipe whose write end carries `text` once.
struct pipe_pair {
    int fds[2] = {-1, -1};
    pipe_pair() { REQUIRE(::pipe(fds) == 0); }
    ~pipe_pair() {
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
};

std::string read_from(int fd) {
    char buffer[64];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

std::string be16(std::size_t n) { return {static_cast<char>(n >> 8), static_cast<char>(n)}; }
}  // namespace

TEST_CASE("socketpair makes connected pairs of every Unix type") {
    {
        auto [a, b] = sf::socketpair<sf::unix_stream>();
        a.write_all(std::string("stream"));
        char out[6];
        b.read_exact(sf::mutable_buffer(out, 6), 5s);
        CHECK(std::string(out, 6) == "stream");
    }
    {
        auto [a, b] = sf::socketpair<sf::unix_datagram>();
        a.send(std::string("dgram"));
        char out[16];
        CHECK(b.receive(sf::mutable_buffer(out, sizeof out), 5s) == 5);
    }
    {
        auto [a, b] = sf::socketpair<sf::unix_seqpacket>();
        a.send(std::string("record"));
        char out[16];
        CHECK(b.receive(sf::mutable_buffer(out, sizeof out), 5s) == 6);
    }
    {
        auto [a, b] = sf::socketpair<sf::unix_datagram_nb>();
        char out[4];
        std::error_code ec;
        b.receive(sf::mutable_buffer(out, sizeof out), ec);
        CHECK(sf::is_would_block(ec));
    }
}

TEST_CASE("peer credentials: this process, user and group on both ends of a socketpair") {
    auto [a, b] = sf::socketpair<sf::unix_stream>();
    const sf::credentials c = sf::peer_credentials(a);
    CHECK(c.uid == static_cast<long>(::geteuid()));
    CHECK(c.gid == static_cast<long>(::getegid()));
#if defined(SOCKFRAME_LINUX)
    CHECK(c.pid == static_cast<long>(::getpid()));
#endif
    auto [d, e] = sf::socketpair<sf::unix_seqpacket>();
    CHECK(sf::peer_credentials(e).uid == static_cast<long>(::geteuid()));
    std::error_code ec;
    sf::udp_socket udp(sf::ipv4_address::loopback(0));
    sf::peer_credentials(udp, ec);  // not a Unix socket: an error, not garbage
    CHECK(ec == std::errc::operation_not_supported);
}

TEST_CASE("descriptors pass beside data over every Unix type, and none leaks") {
    const std::size_t before = open_descriptors();
    {
        pipe_pair p1, p2;
        auto [a, b] = sf::socketpair<sf::unix_datagram>();
        const int fds[2] = {p1.fds[0], p2.fds[0]};
        sf::send_with_descriptors(a, std::string("two pipes"), fds, 2, 5s);
        sf::received_descriptors got(4);
        char out[32];
        const std::size_t n = sf::receive_with_descriptors(b, sf::mutable_buffer(out, sizeof out), got, 5s);
        CHECK(std::string(out, n) == "two pipes");
        REQUIRE(got.size() == 2);
        CHECK_FALSE(got.truncated());
        CHECK(got[0] != p1.fds[0]);  // the receiver's own descriptors for the same pipes
        REQUIRE(::write(p1.fds[1], "one", 3) == 3);
        REQUIRE(::write(p2.fds[1], "two", 3) == 3);
        CHECK(read_from(got[0]) == "one");
        CHECK(read_from(got[1]) == "two");
        const int kept = got.release(1);
        CHECK(kept >= 0);
        ::close(kept);
    }
    {
        pipe_pair p;
        auto [a, b] = sf::socketpair<sf::unix_stream>();
        const int fds[1] = {p.fds[1]};
        sf::send_with_descriptors(a, std::string("stream bytes"), fds, 1, 5s);
        a.write_all(std::string(" and more"));
        sf::received_descriptors got;
        char out[64];
        const std::size_t n = sf::receive_with_descriptors(b, sf::mutable_buffer(out, sizeof out), got, 5s);
        CHECK(std::string(out, n) ==
              "stream bytes");  // a read stops after the bytes the descriptors came with
        REQUIRE(got.size() == 1);
        REQUIRE(::write(got[0], "via", 3) == 3);
        CHECK(read_from(p.fds[0]) == "via");
        std::error_code ec;
        const sf::const_buffer nothing;
        sf::send_with_descriptors(a, &nothing, 1, fds, 1, sf::deadline{}, ec);
        CHECK(ec == sf::errc::invalid_argument);  // a stream carries descriptors only with a byte
    }
    {
        pipe_pair p;
        auto [a, b] = sf::socketpair<sf::unix_seqpacket>();
        const int fds[3] = {p.fds[0], p.fds[0], p.fds[1]};
        sf::send_with_descriptors(a, std::string("r"), fds, 3, 5s);
        sf::received_descriptors got(3);
        char out[4];
        CHECK(sf::receive_with_descriptors(b, sf::mutable_buffer(out, sizeof out), got, 5s) == 1);
        CHECK(got.size() == 3);
    }
    CHECK(open_descriptors() == before);
}

TEST_CASE("more descriptors than the receiver has room for: the rest are closed and flagged (MSG_CTRUNC)") {
    const std::size_t before = open_descriptors();
    {
        pipe_pair p;
        auto [a, b] = sf::socketpair<sf::unix_datagram>();
        std::vector<int> fds(10, p.fds[0]);
        sf::send_with_descriptors(a, std::string("ten"), fds.data(), fds.size(), 5s);
        sf::received_descriptors got(3);
        char out[8];
        CHECK(sf::receive_with_descriptors(b, sf::mutable_buffer(out, sizeof out), got, 5s) == 3);
        CHECK(got.size() <= 3);
        CHECK(got.truncated());
        // a plain receive (no room at all) of a message with descriptors leaks none either
        sf::send_with_descriptors(a, std::string("ten"), fds.data(), fds.size(), 5s);
        CHECK(b.receive(sf::mutable_buffer(out, sizeof out), 5s) == 3);
        // a received set that is destroyed closes what it held
        sf::send_with_descriptors(a, std::string("ten"), fds.data(), 4, 5s);
        sf::received_descriptors held(8);
        sf::receive_with_descriptors(b, sf::mutable_buffer(out, sizeof out), held, 5s);
        CHECK(held.size() == 4);
        CHECK(open_descriptors() == before + 2 + 3 + 2 + 4);  // pipe, the pair, got, held
    }
    CHECK(open_descriptors() == before);
}

TEST_CASE("a frame with descriptors over Unix datagram and seqpacket sockets") {
    const std::size_t before = open_descriptors();
    {
        pipe_pair p;
        auto [a, b] = sf::socketpair<sf::unix_seqpacket>();
        sf::framed tx{std::move(a), sf::length_prefix<std::uint16_t>{}};
        sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{}};
        const int fds[1] = {p.fds[1]};
        sf::send_with_descriptors(tx, std::string("take this pipe"), fds, 1, 5s);
        tx.send("plain");
        std::byte space[256];
        sf::received_descriptors got(2);
        std::error_code ec;
        auto frame = sf::receive_with_descriptors(rx, sf::mutable_buffer(space, sizeof space), got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "take this pipe");
        REQUIRE(got.size() == 1);
        REQUIRE(::write(got[0], "x", 1) == 1);
        CHECK(read_from(p.fds[0]) == "x");
        frame = sf::receive_with_descriptors(rx, sf::mutable_buffer(space, sizeof space), got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "plain");
        CHECK(got.empty());
        // a message the codec refuses: its descriptors are closed with the error
        sf::send_with_descriptors(tx.endpoint(), std::string("\x00\x09short", 7), fds, 1, 5s);
        CHECK_FALSE(sf::receive_with_descriptors(rx, sf::mutable_buffer(space, sizeof space), got, 5s, ec));
        CHECK(ec == sf::errc::frame_size_mismatch);
        CHECK(got.empty());
        // larger than the space: frame_too_large, descriptors closed
        sf::send_with_descriptors(tx, std::string(300, 'b'), fds, 1, 5s);
        CHECK_FALSE(sf::receive_with_descriptors(rx, sf::mutable_buffer(space, sizeof space), got, 5s, ec));
        CHECK(ec == sf::errc::frame_too_large);
        CHECK(got.empty());
    }
    {
        auto [a, b] = sf::socketpair<sf::unix_datagram>();
        sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{}};
        pipe_pair p;
        const int fds[1] = {p.fds[0]};
        sf::send_with_descriptors(a, be16(2) + "ok", fds, 1, 5s);
        std::byte space[64];
        sf::received_descriptors got;
        auto frame = sf::receive_with_descriptors(rx, sf::mutable_buffer(space, sizeof space), got, 5s);
        REQUIRE(frame);
        CHECK(frame->str() == "ok");
        CHECK(got.size() == 1);
    }
    CHECK(open_descriptors() == before);
}

#if defined(SOCKFRAME_LINUX)
namespace {
/// Whether `a` and `b` are descriptors of the same open file (device and inode).
bool same_file(int a, int b) {
    struct ::stat sa {
    }, sb{};
    REQUIRE(::fstat(a, &sa) == 0);
    REQUIRE(::fstat(b, &sb) == 0);
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
}  // namespace

TEST_CASE("the kernel's rule framed relies on: a read that brings descriptors ends within their message") {
    const std::size_t before = open_descriptors();
    {
        pipe_pair p;
        auto [a, b] = sf::socketpair<sf::unix_stream>();
        const int fds[1] = {p.fds[0]};
        a.write_all(std::string("aaa"));
        sf::send_with_descriptors(a, std::string("bbb"), fds, 1, 5s);
        a.write_all(std::string("ccc"));
        sf::received_descriptors got;
        char out[64];
        // the read may begin with an earlier message's bytes, so the descriptors' message is not
        // where the read starts; it stops at the end of that message, not after
        std::size_t n = sf::receive_with_descriptors(b, sf::mutable_buffer(out, sizeof out), got, 5s);
        CHECK(std::string(out, n) == "aaabbb");
        REQUIRE(got.size() == 1);
        CHECK(same_file(got[0], p.fds[0]));
        n = sf::receive_with_descriptors(b, sf::mutable_buffer(out, sizeof out), got, 5s);
        CHECK(std::string(out, n) == "ccc");
        CHECK(got.empty());
        // a read shorter than the message: the descriptors come with its first part
        sf::send_with_descriptors(a, std::string("dddd"), fds, 1, 5s);
        n = sf::receive_with_descriptors(b, sf::mutable_buffer(out, 2), got, 5s);
        CHECK(std::string(out, n) == "dd");
        CHECK(got.size() == 1);
        n = sf::receive_with_descriptors(b, sf::mutable_buffer(out, sizeof out), got, 5s);
        CHECK(std::string(out, n) == "dd");
        CHECK(got.empty());
    }
    CHECK(open_descriptors() == before);
}

TEST_CASE("frames with descriptors over a Unix stream: pipelined, split across reads, each gets its own") {
    const std::size_t before = open_descriptors();
    {
        pipe_pair p1, p2, p3, p4;
        auto [a, b] = sf::socketpair<sf::unix_stream>();
        sf::framed tx{std::move(a), sf::length_prefix<std::uint16_t>{}};
        sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{}};
        rx.set_initial_receive_capacity(64);  // frames of 150 bytes span several reads
        const std::string first(150, '1'), third(150, '3'), fifth(40, '5');
        const int one[1] = {p1.fds[0]};
        const int two[2] = {p2.fds[0], p3.fds[1]};
        const int four[1] = {p4.fds[0]};
        tx.queue("queued before");  // flushed before the frame with descriptors, in its own call
        sf::send_with_descriptors(tx, first, one, 1, 5s);
        tx.send("between");  // no descriptors: glued by the kernel to what follows
        sf::send_with_descriptors(tx, third, two, 2, 5s);
        tx.send("plain");
        // a sender that splits a frame: its descriptors with the first header byte, the rest later
        sf::send_with_descriptors(tx.endpoint(), std::string(1, '\0'), four, 1, 5s);
        tx.endpoint().write_all(std::string(1, static_cast<char>(fifth.size())) + fifth.substr(0, 10));
        tx.endpoint().write_all(fifth.substr(10));
        sf::send_with_descriptors(tx, std::string("never read"), one, 1, 5s);

        sf::received_descriptors got(4);
        std::error_code ec;
        const sf::mutable_buffer unused;
        auto frame = sf::receive_with_descriptors(rx, unused, got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "queued before");
        CHECK(got.empty());
        frame = sf::receive_with_descriptors(rx, unused, got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == first);
        REQUIRE(got.size() == 1);
        CHECK_FALSE(got.truncated());
        CHECK(same_file(got[0], p1.fds[0]));
        REQUIRE(::write(p1.fds[1], "p1", 2) == 2);
        CHECK(read_from(got[0]) == "p1");
        frame = sf::receive_with_descriptors(rx, unused, got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "between");
        CHECK(got.empty());  // the previous frame's descriptor was closed by this receive
        frame = sf::receive_with_descriptors(rx, unused, got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == third);
        REQUIRE(got.size() == 2);
        CHECK(same_file(got[0], p2.fds[0]));
        CHECK(same_file(got[1], p3.fds[1]));
        REQUIRE(::write(p2.fds[1], "p2", 2) == 2);
        CHECK(read_from(got[0]) == "p2");
        REQUIRE(::write(got[1], "p3", 2) == 2);
        CHECK(read_from(p3.fds[0]) == "p3");
        frame = rx.receive(5s);  // a plain receive in between takes no descriptors
        REQUIRE(frame);
        CHECK(frame->str() == "plain");
        frame = sf::receive_with_descriptors(rx, unused, got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == fifth);
        REQUIRE(got.size() == 1);
        CHECK(same_file(got[0], p4.fds[0]));
        // "never read" and its descriptor stay with rx until rx is destroyed
        CHECK(open_descriptors() > before + 10);
    }
    CHECK(open_descriptors() == before);
}

TEST_CASE(
    "a frame over a Unix stream with more descriptors than the receiver's room: the rest closed, flagged") {
    const std::size_t before = open_descriptors();
    {
        pipe_pair p;
        auto [a, b] = sf::socketpair<sf::unix_stream>();
        sf::framed tx{std::move(a), sf::length_prefix<std::uint16_t>{}};
        sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{}};
        const std::vector<int> many(6, p.fds[0]);
        sf::send_with_descriptors(tx, std::string("six"), many.data(), many.size(), 5s);
        sf::send_with_descriptors(tx, std::string("one"), many.data(), 1, 5s);
        sf::send_with_descriptors(tx, std::string("three"), many.data(), 3, 5s);
        sf::received_descriptors got(2);
        std::error_code ec;
        auto frame = sf::receive_with_descriptors(rx, sf::mutable_buffer(), got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "six");
        CHECK(got.size() == 2);
        CHECK(got.truncated());
        CHECK(open_descriptors() == before + 2 + 2 + 2);  // pipe, pair, the two kept
        frame = sf::receive_with_descriptors(rx, sf::mutable_buffer(), got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "one");
        CHECK(got.size() == 1);
        CHECK_FALSE(got.truncated());
        sf::received_descriptors wide(8);  // a receiver with room for all of them
        frame = sf::receive_with_descriptors(rx, sf::mutable_buffer(), wide, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "three");
        CHECK(wide.size() == 3);
        CHECK_FALSE(wide.truncated());
        // end-of-stream: nullopt with no error, nothing held
        tx.endpoint().shutdown(sf::shutdown_type::send);
        frame = sf::receive_with_descriptors(rx, sf::mutable_buffer(), got, 5s, ec);
        CHECK_FALSE(frame);
        CHECK_FALSE(ec);
        CHECK(got.empty());
    }
    CHECK(open_descriptors() == before);
}

TEST_CASE("a non-blocking framed Unix stream keeps a partial frame's descriptors until the frame completes") {
    const std::size_t before = open_descriptors();
    {
        pipe_pair p;
        auto [a, b] = sf::socketpair<sf::unix_stream_nb>();
        sf::framed rx{std::move(b), sf::length_prefix<std::uint16_t>{}};
        sf::received_descriptors got;
        std::error_code ec;
        CHECK_FALSE(sf::receive_with_descriptors(rx, got, sf::deadline{}, ec));
        CHECK(sf::is_would_block(ec));
        const int fds[1] = {p.fds[0]};
        std::error_code sec;
        const sf::const_buffer head("\0\4ab", 4);
        sf::send_with_descriptors(a, &head, 1, fds, 1, 5s, sec);
        REQUIRE_FALSE(sec);
        CHECK_FALSE(sf::receive_with_descriptors(rx, got, sf::deadline{}, ec));
        CHECK(sf::is_would_block(ec));
        CHECK(got.empty());
        CHECK(rx.buffered() == 4);
        a.write_all(std::string("cd"), 5s);
        auto frame = sf::receive_with_descriptors(rx, got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "abcd");
        REQUIRE(got.size() == 1);
        CHECK(same_file(got[0], p.fds[0]));
        // a framed object moved while it holds descriptors: the new owner delivers them
        sf::send_with_descriptors(a, &head, 1, fds, 1, 5s, sec);
        CHECK_FALSE(sf::receive_with_descriptors(rx, got, sf::deadline{}, ec));
        sf::framed moved{std::move(rx)};
        a.write_all(std::string("ef"), 5s);
        frame = sf::receive_with_descriptors(moved, got, 5s, ec);
        REQUIRE(frame);
        CHECK(frame->str() == "abef");
        CHECK(got.size() == 1);
    }
    CHECK(open_descriptors() == before);
}
#endif

TEST_CASE("peek: stream and datagram receives that leave the data queued") {
    auto [a, b] = sf::socketpair<sf::unix_stream>();
    a.write_all(std::string("PROXY TCP4 rest"));
    char out[16];
    const std::size_t n = b.peek(sf::mutable_buffer(out, 5), 5s);
    CHECK(std::string(out, n) == "PROXY");
    CHECK(b.read_exact(sf::mutable_buffer(out, 15), 5s) == 15);
    CHECK(std::string(out, 15) == "PROXY TCP4 rest");

    sf::udp_socket rx(sf::ipv4_address::loopback(0)), tx(sf::ipv4_address::loopback(0));
    tx.send_to(std::string("datagram"), rx.local_address());
    std::error_code ec;
    CHECK(rx.peek(sf::mutable_buffer(out, 4), 5s, ec) == 4);
    CHECK(ec == sf::errc::message_truncated);
    CHECK(rx.peek(sf::mutable_buffer(out, sizeof out), 5s) == 8);
    auto r = rx.receive_from(sf::mutable_buffer(out, sizeof out), 5s);
    CHECK(r.size == 8);
    CHECK(std::string(out, 8) == "datagram");
    CHECK(rx.peek(sf::mutable_buffer(out, sizeof out), sf::deadline(std::chrono::milliseconds(0)), ec) == 0);
    CHECK(ec == std::errc::timed_out);
}
#else
SOCKFRAME_SKIPPED_TEST_CASE("descriptors pass beside data over every Unix type, and none leaks",
                            "Windows has no descriptor passing (SCM_RIGHTS) nor Unix datagram sockets")
TEST_CASE("peek on a UDP socket leaves the datagram queued") {
    sf::udp_socket rx(sf::ipv4_address::loopback(0)), tx(sf::ipv4_address::loopback(0));
    tx.send_to(std::string("datagram"), rx.local_address());
    char out[16];
    CHECK(rx.peek(sf::mutable_buffer(out, sizeof out), 5s) == 8);
    CHECK(rx.receive(sf::mutable_buffer(out, sizeof out), 5s) == 8);
}
#endif
