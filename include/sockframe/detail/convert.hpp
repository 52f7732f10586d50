// SPDX-License-Identifier: MIT
#pragma once
/// detail::convert<To>(value): a static_cast written once, for conversions between integer types
/// that are the same type on some platforms and not on others (std::uint64_t and a file's device
/// number, std::size_t and socklen_t...), so that -Wuseless-cast stays quiet where they match.

#include <sockframe/config.hpp>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {
/// `value` as a `To`.
template <typename To, typename From>
constexpr To convert(From value) noexcept {
    return static_cast<To>(value);
}
}  // namespace detail
SOCKFRAME_NAMESPACE_END
