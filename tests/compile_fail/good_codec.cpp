// Must compile: the same codec as bad_decode_frame.cpp with decode_frame declared as accepted
// (shows that the compile-fail check fails for the reason it names, not for another).
#include <sockframe/codec_traits.hpp>

#include <cstddef>
#include <system_error>

namespace {
struct good_codec {
    std::size_t max_frame() const { return 16; }
    std::size_t max_frame_bytes() const { return 17; }
    sockframe::decode_result decode(sockframe::const_buffer) { return {}; }
    void reset() {}
    std::error_code encode(sockframe::const_buffer payload, sockframe::frame_parts& out) const {
        out.reset(payload);
        return {};
    }
    std::size_t decode_frame(sockframe::const_buffer, sockframe::const_buffer&) const noexcept { return 0; }
};
}  // namespace

int main() { return sockframe::codec_check<good_codec>::ok ? 0 : 1; }
