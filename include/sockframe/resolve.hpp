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
/// getaddrinfo's EAI_* results as error codes, with gai_strerror's text.
class resolver_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "sockframe.resolver"; }
    std::string message(int value) const override {
#if defined(SOCKFRAME_WINDOWS)
        return winsock_category().message(value);
#else
        return ::gai_strerror(value);
#endif
    }
    std::error_condition default_error_condition(int value) const noexcept override {
        if (value == EAI_MEMORY) return std::errc::not_enough_memory;  // Windows: WSA_NOT_ENOUGH_MEMORY
        if (value == EAI_FAMILY) return std::errc::address_family_not_supported;  // WSAEAFNOSUPPORT
        return {value, *this};
    }
};
/// Whether `service` is a service name ("http"): it starts with a letter. Anything else must be
/// a decimal port.
inline bool is_service_name(std::string_view service) noexcept {
    char c = service.empty() ? '\0' : service.front();
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
}  // namespace detail

/// The category of name-resolution failures (EAI_NONAME, EAI_AGAIN, ...).
inline const std::error_category& resolver_category() noexcept {
    static const detail::resolver_category_impl category;
    return category;
}

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
    std::string host_text(host), service_text(service);
    ::addrinfo hints{};
    const int wanted = detail::resolve_domain<Family>();
    hints.ai_family = wanted;
    hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
    hints.ai_flags = passive ? AI_PASSIVE : 0;
#if defined(AI_ADDRCONFIG)
    if (!host_text.empty() && host_text != "localhost") hints.ai_flags |= AI_ADDRCONFIG;
#endif
    ::addrinfo* list = nullptr;
    int rc = ::getaddrinfo(host_text.empty() ? nullptr : host_text.c_str(),
                           service_text.empty() ? nullptr : service_text.c_str(), &hints, &list);
    if (rc != 0) {
#if defined(SOCKFRAME_POSIX) && defined(EAI_SYSTEM)
        if (rc == EAI_SYSTEM) {
            ec = detail::error_from(errno);
            return out;
        }
#endif
        ec = {rc, resolver_category()};
        return out;
    }
    for (auto* p = list; p != nullptr; p = p->ai_next) {
        if (wanted != AF_UNSPEC ? p->ai_family != wanted
                                : p->ai_family != AF_INET && p->ai_family != AF_INET6)
            continue;
        auto len = static_cast<detail::socklen_type>(p->ai_addrlen);
        if (len > address_type::capacity()) continue;
        address_type a;
        std::memcpy(a.data(), p->ai_addr, static_cast<std::size_t>(len));
        if (!a.assign_native(len)) continue;
        bool seen = false;
        for (const auto& b : out) seen = seen || b == a;
        if (!seen) out.push_back(a);
    }
    ::freeaddrinfo(list);
    ec.clear();
    if (out.empty())
        ec = {
#if defined(SOCKFRAME_WINDOWS)
            WSAHOST_NOT_FOUND,
#else
            EAI_NONAME,
#endif
            resolver_category()
        };
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
