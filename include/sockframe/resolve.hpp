// SPDX-License-Identifier: MIT
#pragma once
/// Name resolution (getaddrinfo): every address a host and service name map to, in the order the
/// system prefers.

#include <sockframe/address.hpp>
#include <sockframe/detail/os.hpp>
#include <sockframe/error.hpp>
#include <sockframe/policies.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {
/// Whether `service` is a service name ("http"): it starts with a letter. Anything else must be
/// a decimal port.
inline bool is_service_name(std::string_view service) noexcept {
    char c = service.empty() ? '\0' : service.front();
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
}  // namespace detail

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
    using address_type = typename Family::address_type;
    std::vector<address_type> out;
    ec = detail::ensure_started();
    if (ec) return out;
    if (host.find('\0') != std::string_view::npos || service.find('\0') != std::string_view::npos) {
        ec = errc::bad_address;
        return out;
    }
    // getaddrinfo takes any number as a port modulo 65536 ("99999" is 34463): a service that
    // starts like a number must be a whole decimal port 0..65535, else errc::bad_address.
    if (!service.empty() && !detail::is_service_name(service)) {
        std::uint16_t port = 0;
        if (!detail::parse_port(service, port)) {
            ec = errc::bad_address;
            return out;
        }
    }
    const std::string host_text(host), service_text(service);
    const int wanted = detail::resolve_domain<Family>();
    ec = detail::resolve_names(host_text.empty() ? nullptr : host_text.c_str(),
                               service_text.empty() ? nullptr : service_text.c_str(), wanted, passive,
                               [&](const ::sockaddr* address, detail::socklen_type len) {
                                   if (len > address_type::capacity()) return;
                                   address_type a;
                                   std::memcpy(a.data(), address, static_cast<std::size_t>(len));
                                   if (!a.assign_native(len)) return;
                                   for (const auto& b : out)
                                       if (b == a) return;
                                   out.push_back(a);  // may throw bad_alloc, as this function may
                               });
    if (!ec && out.empty()) ec = detail::no_such_host_error();
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
