#include <sockframe/file_frame.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

#if defined(SOCKFRAME_POSIX)
#include <fcntl.h>
#include <unistd.h>

namespace {
/// A temporary file with seeded bytes, removed with the object.
struct temp_file {
    test_support::temp_dir dir;
    std::string path = dir.file("payload.bin");
    int fd = -1;
    std::string bytes;
    explicit temp_file(std::size_t n) {
        std::mt19937 rng(7);
        bytes.resize(n);
        for (auto& c : bytes) c = static_cast<char>(rng() & 0xff);
        fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    }
    ~temp_file() { ::close(fd); }
};
}  // namespace

TEST_CASE("a frame whose payload is a file range arrives whole after its header, between ordinary frames") {
    temp_file file(3 * 1024 * 1024 + 123);
    auto [a, b] = test_support::connected_tcp();
    sf::framed tx{std::move(a), sf::length_prefix<std::uint32_t>{}};
    sf::framed rx{std::move(b), sf::length_prefix<std::uint32_t>{}};
    test_support::joining_thread sender([&] {
        tx.queue("before");  // queued: flushed ahead of the file frame
        sf::send_file_frame(tx, file.fd, 0, file.bytes.size(), 20s);
        sf::send_file_frame(tx, file.fd, 1000, 5000, 20s);  // a range
        tx.send("after");
    });
    CHECK(rx.receive(20s)->str() == "before");
    auto whole = rx.receive(20s);
    REQUIRE(whole);
    CHECK(whole->size() == file.bytes.size());
    CHECK(whole->str() == file.bytes);
    CHECK(rx.receive(20s)->str() == file.bytes.substr(1000, 5000));
    CHECK(rx.receive(20s)->str() == "after");
}

TEST_CASE("a file frame past the file's end or too large for the codec sends nothing") {
    temp_file file(1000);
    auto [a, b] = sf::socketpair<sf::unix_stream>();
    sf::framed tx{std::move(a), sf::length_prefix<std::uint16_t>{500}};
    std::error_code ec;
    sf::send_file_frame(tx, file.fd, 900, 200, sf::deadline{}, ec);
    CHECK(ec == sf::errc::invalid_argument);
    sf::send_file_frame(tx, file.fd, 0, 1000, sf::deadline{}, ec);
    CHECK(ec == sf::errc::payload_too_large);
    sf::send_file_frame(tx, -1, 0, 10, sf::deadline{}, ec);
    CHECK(ec == std::errc::bad_file_descriptor);
    sf::framed lines{std::move(tx.endpoint()), sf::line{}};
    sf::send_file_frame(lines, file.fd, 0, 10, sf::deadline{}, ec);  // a trailer: no file frame
    CHECK(ec == std::errc::operation_not_supported);
    b.set_timeout(0s);
    char out[4];
    b.read_some(sf::mutable_buffer(out, sizeof out), ec);
    CHECK(ec == std::errc::timed_out);  // nothing was sent
}
#else
SOCKFRAME_SKIPPED_TEST_CASE(
    "a frame whose payload is a file range arrives whole after its header, between ordinary frames",
    "file frames use POSIX descriptors (TransmitFile is not wired in on Windows)")
#endif
