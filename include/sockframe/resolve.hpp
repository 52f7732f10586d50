// SPDX-License-Identifier: MIT
#pragma once
/// Name resolution (getaddrinfo): every address a host and service name map to, in the order the
/// system prefers.

#include <sockframe/address.hpp>
#include <sockframe/detail/os.hpp>
#include <sockframe/detail/resolve_into.hpp>
#include <sockframe/error.hpp>
#include <sockframe/policies.hpp>

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

/// The category of name-resolution failures (EAI_NONAME, EAI_AGAIN, ...).
inline const std::error_category& resolver_category() noexcept { return detail::resolver_error_category(); }

/// Resolves `host` and `service` ("localhost", "7000" or "http") for `Family` (ipv4, ipv6, or
/// ip / any_family for both, in the system's order: e.g. ::1 then 127.0.0.1).
/// An empty host means the loopback address; `passive` asks for the wildcard address instead (to
/// bind). Fails with a resolver_category() code, or errc::bad_address for text with a NUL or a
/// numeric service that is not a port 0..65535 ("99999", "-1", "80x", " 80").
template <typename Family>
std::vector<typename Family::address_type> resolve(std::string_view host, std::string_view service,
                                                   std::error_code& ec, bool passive = false) {
    std::vector<typename Family::address_type> out;
    ec = detail::resolve_into<Family>(host, service, passive, out);  // push_back may throw bad_alloc
    return out;
}

/// Throwing resolve.
template <typename Family>
std::vector<typename Family::address_type> resolve(std::string_view host, std::string_view service,
                                                   bool passive = false) {
    std::error_code ec;
    auto out = resolve<Family>(host, service, ec, passive);
    if (ec)
        throw std::system_error(
            ec, "sockframe: resolve '" + std::string(host) + "' service '" + std::string(service) + "'");
    return out;
}

SOCKFRAME_NAMESPACE_END
