// Must NOT compile: decode_frame is declared, but not const noexcept, so codec_check rejects the
// codec with a message naming decode_frame (tests/CMakeLists.txt checks the message).
#include <sockframe/codec_traits.hpp>

#include <cstddef>
#include <system_error>

namespace {
struct bad_codec {
    std::size_t max_frame() const { return 16; }
    std::size_t max_frame_bytes() const { return 17; }
    sockframe::decode_result decode(sockframe::const_buffer) { return {}; }
    void reset() {}
    std::error_code encode(sockframe::const_buffer payload, sockframe::frame_parts& out) const {
        out.reset(payload);
        return {};
    }
    std::size_t decode_frame(sockframe::const_buffer, sockframe::const_buffer&) { return 0; }  // not const
};
}  // namespace

int main() { return sockframe::codec_check<bad_codec>::ok ? 0 : 1; }
