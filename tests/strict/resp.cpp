// RESP under the strictest warnings: the codec through framed, the view and the writer.
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sf = sockframe;

namespace {

[[maybe_unused]] std::size_t walk(const sf::resp_value& v) {
    std::size_t n = v.str().size() + v.format().size() + static_cast<std::size_t>(v.integer() != 0) +
                    static_cast<std::size_t>(v.boolean()) + v.encoded().size();
    if (v.attributes().type() == sf::resp_type::attribute) n += walk(v.attributes());
    for (sf::resp_value child : v) n += walk(child);
    return n + v.size() + static_cast<std::size_t>(v.marker());
}

[[maybe_unused]] void use_resp(sf::tcp_stream stream) {
    static_assert(sf::codec_check<sf::resp_codec>::ok);
    sf::resp_limits limits;
    limits.max_depth = 8;
    sf::framed<sf::tcp_stream, sf::resp_codec> conn(std::move(stream), sf::resp_codec{limits});
    std::string out;
    sf::resp_writer w(out);
    const std::vector<std::string> args = {"MGET", "a", "b"};
    w.command("SET", "k", std::string("v")).command_range(args);
    w.array(3).integer(-1).double_number(0.5).big_number("1").map(1).simple_string("k").bulk_error("E");
    w.set(0).push(0).attribute(0).null().null_array().null_bulk_string().boolean(false).verbatim_string("txt",
                                                                                                        "x");
    w.raw(sf::const_buffer(out.data(), 1));
    std::error_code ec;
    conn.send(out, ec);
    if (auto frame = conn.receive(std::chrono::seconds(1), ec)) (void)walk(sf::resp_value(*frame));
    std::uint64_t at = 0;
    const sf::resp_value parsed = sf::resp_value::parse(out, ec, limits, &at);
    (void)walk(parsed);
    (void)parsed[1];
    char digits[24];
    (void)sf::resp_writer::format_signed(INT64_MIN, digits);
}

}  // namespace
