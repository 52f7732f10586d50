// resp: RESP2/RESP3 values and inline commands, nested aggregates, attributes, limits.
// Input: [options][max_bulk][max_elements][seed] stream...
// Besides the shared differential check, every decoded frame is walked through resp_value (every
// child, attribute and text, which must lie inside the frame), a view built with the codec's index
// of the top-level children (recorded while decoding, by decode() and by decode_frame()) must read
// the same children as a view that walks the frame, and a command built from the input by
// resp_writer must decode back to its own words.
#include "fuzz_harness.hpp"

#include <sockframe/resp.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sf = sockframe;

namespace {

void inside(sf::const_buffer frame, std::string_view s) {
    if (s.empty()) return;
    const char* begin = reinterpret_cast<const char*>(frame.data());
    FUZZ_CHECK(s.data() >= begin && s.data() + s.size() <= begin + frame.size());
}

std::size_t walk(sf::const_buffer frame, const sf::resp_value& v, int depth) {
    FUZZ_CHECK(depth <= static_cast<int>(sf::resp_codec::depth_capacity) + 1);
    inside(frame, v.str());
    inside(frame, v.encoded().str());
    (void)v.integer();
    (void)v.boolean();
    (void)v.format();
    std::size_t nodes = 1;
    const sf::resp_value attributes = v.attributes();
    if (attributes.type() == sf::resp_type::attribute) nodes += walk(frame, attributes, depth + 1);
    std::size_t children = 0;
    for (sf::resp_value child : v) {
        nodes += walk(frame, child, depth + 1);
        ++children;
    }
    FUZZ_CHECK(children == v.size());
    // strings() agrees with the children
    std::string_view texts[8];
    bool only_bulk = false;
    FUZZ_CHECK(v.strings(texts, 8, &only_bulk) == children);
    std::size_t i = 0;
    bool bulk = true;
    for (sf::resp_value child : v) {
        if (i < 8) FUZZ_CHECK(texts[i].data() == child.str().data() && texts[i].size() == child.str().size());
        if (child.type() != sf::resp_type::bulk_string) bulk = false;
        ++i;
    }
    FUZZ_CHECK(only_bulk == bulk);
    return nodes;
}

/// The view made with the codec's index reads what a walk of the frame reads.
void same_children(sf::const_buffer frame, const sf::resp_codec& codec) {
    const sf::resp_value walked(frame);
    const sf::resp_value indexed(frame, codec);
    FUZZ_CHECK(indexed.type() == walked.type() && indexed.size() == walked.size());
    FUZZ_CHECK(indexed.encoded().data() == walked.encoded().data());
    std::size_t i = 0;
    auto b = indexed.begin();
    for (auto a = walked.begin(); a != walked.end(); ++a, ++b, ++i) {
        FUZZ_CHECK(b != indexed.end());
        FUZZ_CHECK(a->type() == b->type() && a->str().data() == b->str().data() &&
                   a->str().size() == b->str().size());
        FUZZ_CHECK(a->encoded().data() == b->encoded().data() && a->encoded().size() == b->encoded().size());
        FUZZ_CHECK(a->attributes().encoded().data() == b->attributes().encoded().data());
        if (i < 40) FUZZ_CHECK(indexed[i].encoded().data() == a->encoded().data());
        const sf::resp_index& index = codec.index();
        if (index.describes(reinterpret_cast<const char*>(walked.encoded().data()), walked.size()) &&
            i < index.recorded())
            FUZZ_CHECK(index.end(i) ==
                       reinterpret_cast<const char*>(a->encoded().data()) + a->encoded().size());
    }
    FUZZ_CHECK(b == indexed.end() && i == walked.size());
    std::string_view x[8], y[8];
    bool bulk_x = false, bulk_y = true;
    FUZZ_CHECK(walked.strings(x, 8, &bulk_x) == indexed.strings(y, 8, &bulk_y) && bulk_x == bulk_y);
    for (std::size_t k = 0; k < i && k < 8; ++k)
        FUZZ_CHECK(x[k].data() == y[k].data() && x[k].size() == y[k].size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::install_allocation_hooks();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in{data, size};
    const std::uint8_t options = in.byte();
    sf::resp_limits limits;
    limits.inline_commands = (options & 1) != 0;
    limits.max_depth = 1 + (options >> 1) % sf::resp_codec::depth_capacity;
    limits.max_frame = (options & 0x80) ? std::size_t{1} << 20 : 64 + std::size_t{in.byte()} * 4;
    limits.max_bulk = in.byte();
    limits.max_elements = in.byte();
    limits.max_inline = 1 + std::size_t{in.byte()};
    const std::uint64_t seed = in.byte();
    fuzz::differential([&] { return sf::resp_codec{limits}; }, in.data, in.size, seed);

    // every frame of the stream, walked through the view
    sf::resp_codec codec{limits};
    sf::const_buffer rest{in.data, in.size};
    for (int guard = 0; guard < 100000; ++guard) {
        // decode_frame first (as framed's reader) on odd seeds, decode() alone on even ones
        sf::decode_result r;
        sf::const_buffer payload;
        if (const std::size_t n = (seed & 1) ? codec.decode_frame(rest, payload) : 0)
            r = sf::decode_result::frame(payload, n);
        else
            r = codec.decode(rest);
        if (!r.is_frame()) break;
        const sf::resp_value v(r.payload);
        walk(r.payload, v, 0);
        same_children(r.payload, codec);
        if (v.type() != sf::resp_type::inline_command)
            FUZZ_CHECK(v.encoded().data() + v.encoded().size() == r.payload.data() + r.payload.size());
        rest = rest.subspan(r.consumed);
    }

    // a command of the input's words encodes and decodes back to them
    std::vector<std::string_view> words;
    const std::string_view text(reinterpret_cast<const char*>(in.data), in.size);
    for (std::size_t start = 0; start <= text.size() && words.size() < 64;) {
        const std::size_t stop = std::min(text.find('\0', start), text.size());
        words.push_back(text.substr(start, stop - start));
        start = stop + 1;
    }
    std::string wire;
    sf::resp_writer(wire).command_range(words);
    sf::resp_limits roomy;
    roomy.max_bulk = wire.size();
    roomy.max_frame = wire.size() + 1;
    sf::resp_codec round{roomy};
    const sf::decode_result r = round.decode(wire);
    FUZZ_CHECK(r.is_frame() && r.consumed == wire.size());
    const sf::resp_value command(r.payload);
    FUZZ_CHECK(command.size() == words.size());
    std::size_t i = 0;
    for (sf::resp_value word : command) FUZZ_CHECK(word.str() == words[i++]);
    return 0;
}
