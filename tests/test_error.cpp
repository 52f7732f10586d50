#include <sockframe/codec.hpp>
#include <sockframe/error.hpp>

#include <doctest/doctest.h>

#include <ostream>
#include <set>
#include <string>

namespace sf = sockframe;

TEST_CASE("every sockframe error has its own message in the sockframe category") {
    std::set<std::string> messages;
    for (int v = static_cast<int>(sf::errc::end_of_stream); v <= static_cast<int>(sf::errc::buffer_full);
         ++v) {
        std::error_code ec = static_cast<sf::errc>(v);
        CHECK(std::string(ec.category().name()) == "sockframe");
        CHECK_FALSE(ec.message().empty());
        messages.insert(ec.message());
    }
    CHECK(messages.size() == static_cast<std::size_t>(sf::errc::buffer_full));
    CHECK(std::error_code(999, sf::sockframe_category()).message() == "unknown sockframe error");
    CHECK(std::error_code(0, sf::sockframe_category()).message() == "success");
    CHECK_FALSE(std::error_code(0, sf::sockframe_category()));
}

// Built at static-initialisation time, before any code of this program runs: the category is
// usable then (it is constant-initialised, not built on first use).
static const std::string category_name_at_startup = sf::sockframe_category().name();
static const std::string message_at_startup = std::error_code(sf::errc::frame_too_large).message();

// Its address is a constant expression, so naming it costs no initialisation check. Every
// decode_result holds it: as a guarded function-local static it made each codec's decode too large
// to inline (MQTT and WebSocket decoding ran at half speed). This does not compile unless the
// object is constant-initialised at namespace scope.
constexpr const std::error_category* category_address = &sf::detail::sockframe_category_object.impl;

TEST_CASE("the sockframe category works during static initialisation and is one object") {
    CHECK(category_name_at_startup == "sockframe");
    CHECK(message_at_startup == std::error_code(sf::errc::frame_too_large).message());
    CHECK(&sf::sockframe_category() == &std::error_code(sf::errc::truncated_stream).category());
    CHECK(&sf::sockframe_category() == category_address);
    CHECK(&sf::decode_result::need_more().error.category() == category_address);
}

TEST_CASE("sockframe codes compare equal to the portable conditions they mean") {
    CHECK(std::error_code(sf::errc::not_supported) == std::errc::operation_not_supported);
    CHECK(std::error_code(sf::errc::already_registered) == std::errc::file_exists);
    CHECK(std::error_code(sf::errc::not_registered) == std::errc::no_such_file_or_directory);
    CHECK(std::error_code(sf::errc::malformed_frame).default_error_condition().category() ==
          sf::sockframe_category());
    CHECK(sf::is_would_block(std::make_error_code(std::errc::operation_would_block)));
    CHECK_FALSE(sf::is_would_block(std::make_error_code(std::errc::timed_out)));
    CHECK(std::error_code(sf::errc::message_truncated) == std::errc::message_size);
    CHECK(std::error_code(sf::errc::invalid_argument) == std::errc::invalid_argument);
    CHECK(std::error_code(sf::errc::end_of_stream) == sf::errc::end_of_stream);
    CHECK(std::error_code(sf::errc::end_of_stream) != sf::errc::truncated_stream);
    CHECK(std::error_code(sf::errc::frame_too_large) != std::errc::message_size);
}

TEST_CASE("frame_error carries the offending size into what()") {
    sf::frame_error e(sf::errc::frame_too_large, 4294967295u, "sockframe: receive");
    CHECK(e.code() == sf::errc::frame_too_large);
    CHECK(e.size() == 4294967295u);
    CHECK(std::string(e.what()).find("4294967295") != std::string::npos);
    CHECK_THROWS_AS(sf::detail::throw_if(sf::errc::malformed_frame, "x"), std::system_error);
    CHECK_NOTHROW(sf::detail::throw_if({}, "x"));
}
