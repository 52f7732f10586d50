// websocket::frame_codec in both roles and small or default maximum payloads: split feeds agree;
// each decoded frame parses and goes through a message_assembler (fragments, control frames,
// close codes, UTF-8), whose results must be consistent and the same whether it is given the
// whole frame or the parsed one; encode (server role) round-trips; the
// handshake parsers take the input as an HTTP head without reading outside it.
// Input: [options][seed] stream...
#include "fuzz_harness.hpp"

#include <sockframe/websocket.hpp>

#include <cstring>
#include <memory>
#include <string_view>

namespace sf = sockframe;
namespace ws = sockframe::websocket;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t options = in.byte();
    const auto side = (options & 1) ? ws::role::client : ws::role::server;
    const std::size_t max =
        (options & 2) ? std::size_t{SOCKFRAME_DEFAULT_MAX_FRAME} : std::size_t{options} * 4;
    const std::uint64_t seed = in.byte();
    auto make = [&] { return ws::frame_codec{side, max}; };
    fuzz::differential(make, in.data, in.size, seed);

    ws::frame_codec codec = make();
    ws::message_assembler assembler{static_cast<std::size_t>(max) * 2};
    ws::message_assembler general{static_cast<std::size_t>(max) * 2};
    sf::const_buffer rest{in.data, in.size};
    for (;;) {
        const sf::decode_result r = codec.decode(rest);
        if (!r.is_frame()) break;
        ws::frame f;
        FUZZ_CHECK(!ws::parse_frame(r.payload, f));
        FUZZ_CHECK(f.payload.size() <= max);
        FUZZ_CHECK(f.masked == (side == ws::role::server));
        const ws::event e = assembler.feed(r.payload);
        // the parsed-frame path (no short cut) must agree with the whole-frame one
        const ws::event g = general.feed(f);
        FUZZ_CHECK(g.type == e.type && g.code == e.code && g.error == e.error && g.reason == e.reason);
        FUZZ_CHECK(g.data.size() == e.data.size() &&
                   (e.data.empty() || std::memcmp(g.data.data(), e.data.data(), e.data.size()) == 0));
        if (e.type == ws::event::kind::text)
            FUZZ_CHECK(sf::detail::is_valid_utf8(e.data.data(), e.data.size()));
        if (e.type == ws::event::kind::text || e.type == ws::event::kind::binary)
            FUZZ_CHECK(e.data.size() <= assembler.max_message());
        if (e.type == ws::event::kind::close) FUZZ_CHECK(e.code == 1005 || ws::is_valid_close_code(e.code));
        if (e.type == ws::event::kind::failure) {
            FUZZ_CHECK(e.error && (e.code == 1002 || e.code == 1007 || e.code == 1009));
            break;
        }
        rest = rest.subspan(r.consumed);
    }

    // what a server encodes (header + the payload, not copied), a client decodes back
    const ws::frame_codec encoder{ws::role::server, max};
    sf::frame_parts parts;
    if (!encoder.encode(sf::const_buffer{in.data, in.size}, parts)) {
        FUZZ_CHECK(in.size <= max);
        std::unique_ptr<std::byte[]> wire(new std::byte[parts.size()]);
        parts.copy_to(wire.get());
        ws::frame_codec decoder{ws::role::client, max};
        const sf::decode_result r = decoder.decode(sf::const_buffer{wire.get(), parts.size()});
        FUZZ_CHECK(r.is_frame() && r.consumed == parts.size());
        ws::frame f;
        FUZZ_CHECK(!ws::parse_frame(r.payload, f));
        FUZZ_CHECK(f.fin && f.op == ws::opcode::binary && !f.masked && f.payload.size() == in.size);
        FUZZ_CHECK(in.size == 0 || std::memcmp(f.payload.data(), in.data, in.size) == 0);
    } else {
        FUZZ_CHECK(in.size > max);
    }

    const std::string_view head{reinterpret_cast<const char*>(in.data), in.size};
    ws::request request;
    if (!ws::parse_request(head, request)) FUZZ_CHECK(request.key.size() == 24);
    (void)ws::check_response(head, "dGhlIHNhbXBsZSBub25jZQ==");
    (void)ws::find_head_end(sf::const_buffer{in.data, in.size});
    return 0;
}
