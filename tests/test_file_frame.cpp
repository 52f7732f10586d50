#include <sockframe/file_frame.hpp>

#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>

#include "support/net.hpp"

namespace sf = sockframe;
using namespace std::chrono_literals;

#if defined(SOCKFRAME_WINDOWS)
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

namespace {
/// A temporary file with seeded bytes, removed with the object; `fd` is a POSIX descriptor, on
/// Windows a C runtime one (what send_file takes there).
struct temp_file {
    test_support::temp_dir dir;
    std::string path = dir.file("payload.bin");
    int fd = -1;
    std::string bytes;
    explicit temp_file(std::size_t n) {
        std::mt19937 rng(7);
        bytes.resize(n);
        for (auto& c : bytes) c = static_cast<char>(rng() & 0xff);
#if defined(SOCKFRAME_WINDOWS)
        fd = ::_open(path.c_str(), _O_RDWR | _O_CREAT | _O_TRUNC | _O_BINARY | _O_NOINHERIT,
                     _S_IREAD | _S_IWRITE);
        REQUIRE(fd >= 0);
        REQUIRE(::_write(fd, bytes.data(), static_cast<unsigned>(bytes.size())) ==
                static_cast<int>(bytes.size()));
#else
        fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
#endif
    }
    ~temp_file() {
#if defined(SOCKFRAME_WINDOWS)
        ::_close(fd);
#else
        ::close(fd);
#endif
    }
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
        sf::send_file_frame(tx, file.fd, 1000, 5000, 20s);  // a range, with a deadline
        // no deadline: the path that may wait without bound (Linux sendfile, Windows TransmitFile)
        sf::send_file_frame(tx, file.fd, 4096 + 7, 700000);
        tx.send("after");
    });
    CHECK(rx.receive(20s)->str() == "before");
    auto whole = rx.receive(20s);
    REQUIRE(whole);
    CHECK(whole->size() == file.bytes.size());
    CHECK(whole->str() == file.bytes);
    CHECK(rx.receive(20s)->str() == file.bytes.substr(1000, 5000));
    auto range = rx.receive(20s);
    REQUIRE(range);
    CHECK(range->size() == 700000);
    CHECK(range->str() == file.bytes.substr(4096 + 7, 700000));
    CHECK(rx.receive(20s)->str() == "after");
}

TEST_CASE(
    "send_file without a deadline sends the range (Windows: with TransmitFile), not from the file's "
    "position") {
    temp_file file(200000);
    auto [a, b] = test_support::connected_tcp();
#if defined(SOCKFRAME_WINDOWS)
    std::error_code lookup;
    const bool has_transmit_file = sf::detail::transmit_file_function(a.native_handle(), lookup) != nullptr;
    CHECK(has_transmit_file);
    CHECK_FALSE(lookup);
    ::_lseek(file.fd, 11, SEEK_SET);
#else
    ::lseek(file.fd, 11, SEEK_SET);
#endif  // the range starts at its offset wherever the position is
    std::size_t sent = 0;
    {
        auto& from = a;  // a structured binding: clang 14 does not capture one in a lambda
        test_support::joining_thread sender([&] { sent = from.send_file(file.fd, 123457, 65536 + 3); });
        std::string got(65536 + 3, '\0');
        b.read_exact(sf::mutable_buffer(got.data(), got.size()), 20s);
        CHECK(got == file.bytes.substr(123457, 65536 + 3));
    }
    CHECK(sent == 65536 + 3);
#if defined(SOCKFRAME_POSIX)
    CHECK(::lseek(file.fd, 0, SEEK_CUR) == 11);  // sendfile and pread leave it (Windows may move it)
#endif
}

TEST_CASE("a file frame past the file's end or too large for the codec sends nothing") {
    temp_file file(1000);
    auto [a, b] = test_support::stream_pair();
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
