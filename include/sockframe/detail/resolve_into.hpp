// SPDX-License-Identifier: MIT
#pragma once
/// The work of resolve() (getaddrinfo, with the checks a host and service text get first), into any
/// list: resolve() fills a std::vector, a connect by name an array_list (socket.hpp, which does
/// not include <vector>).

#include <sockframe/address.hpp>
#include <sockframe/detail/os.hpp>
#include <sockframe/error.hpp>
#include <sockframe/policies.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN
namespace detail {

/// Whether `service` is a service name ("http"): it starts with a letter. Anything else must be
/// a decimal port.
inline bool is_service_name(std::string_view service) noexcept {
    char c = service.empty() ? '\0' : service.front();
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Appends to `out` (a list of Family::address_type with push_back, empty on entry) every
/// address `host` and `service` resolve to for `Family`, each once, in the system's order.
/// Returns the error resolve() documents; push_back may throw std::bad_alloc.
template <typename Family, typename List>
std::error_code resolve_into(std::string_view host, std::string_view service, bool passive, List& out) {
    using address_type = typename Family::address_type;
    std::error_code ec = ensure_started();
    if (ec) return ec;
    if (host.find('\0') != std::string_view::npos || service.find('\0') != std::string_view::npos)
        return errc::bad_address;
    // getaddrinfo takes any number as a port modulo 65536 ("99999" is 34463): a service that
    // starts like a number must be a whole decimal port 0..65535, else errc::bad_address.
    if (!service.empty() && !is_service_name(service)) {
        std::uint16_t port = 0;
        if (!parse_port(service, port)) return errc::bad_address;
    }
    const std::string host_text(host), service_text(service);
    const int wanted = resolve_domain<Family>();
    ec = resolve_names(host_text.empty() ? nullptr : host_text.c_str(),
                       service_text.empty() ? nullptr : service_text.c_str(), wanted, passive,
                       [&](const ::sockaddr* address, socklen_type len) {
                           if (len > address_type::capacity()) return;
                           address_type a;
                           std::memcpy(a.data(), address, static_cast<std::size_t>(len));
                           if (!a.assign_native(len)) return;
                           for (const auto& b : out)
                               if (b == a) return;
                           out.push_back(a);
                       });
    if (!ec && out.empty()) ec = no_such_host_error();
    return ec;
}

}  // namespace detail
SOCKFRAME_NAMESPACE_END
