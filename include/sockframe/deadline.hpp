// SPDX-License-Identifier: MIT
#pragma once
/// deadline: when a blocking call must give up. Made from a duration (from now), a time point,
/// never(), or left default to use the socket's own timeout (set_timeout).

#include <sockframe/config.hpp>

#include <chrono>
#include <optional>

SOCKFRAME_NAMESPACE_BEGIN

/// The point in time by which a whole blocking operation must finish, else std::errc::timed_out.
class deadline {
public:
    /// The clock every deadline is measured on.
    using clock = std::chrono::steady_clock;

    /// Use the socket's timeout (none unless set_timeout was called).
    constexpr deadline() noexcept = default;
    /// `d` from now; a negative or zero duration means "only what is possible at once".
    template <typename Rep, typename Period>
    deadline(std::chrono::duration<Rep, Period> d) noexcept  // NOLINT(google-explicit-constructor)
        : kind_(kind::at), when_(after(d)) {}
    /// At `t` on the steady clock.
    deadline(clock::time_point t) noexcept : kind_(kind::at), when_(t) {}  // NOLINT
    /// No deadline, whatever the socket's timeout.
    static constexpr deadline never() noexcept { return deadline(kind::never); }

    /// The effective deadline given the socket's timeout (nullopt = wait forever).
    std::optional<clock::time_point> resolve(
        const std::optional<clock::duration>& socket_timeout) const noexcept {
        if (kind_ == kind::at) return when_;
        if (kind_ == kind::never || !socket_timeout) return std::nullopt;
        return saturating_after(*socket_timeout);
    }
    /// Whether this deadline defers to the socket's timeout.
    bool is_socket_default() const noexcept { return kind_ == kind::socket_default; }

    /// now + d, saturating instead of overflowing: a huge duration is time_point::max() (never
    /// reached), a negative or zero one is now (already expired), however large.
    template <typename Rep, typename Period>
    static clock::time_point after(std::chrono::duration<Rep, Period> d) noexcept {
        if (!(d > std::chrono::duration<Rep, Period>::zero())) return clock::now();
        // beyond the clock's own range: never reached (and not representable to convert)
        if (exceeds(d, (clock::duration::max)())) return (clock::time_point::max)();
        return saturating_after(std::chrono::duration_cast<clock::duration>(d));
    }

    /// Whether `d` is longer than `limit`, compared without overflow in either unit.
    template <typename Rep, typename Period>
    static constexpr bool exceeds(std::chrono::duration<Rep, Period> d, clock::duration limit) noexcept {
        using float_seconds = std::chrono::duration<long double>;
        return std::chrono::duration_cast<float_seconds>(d) >=
               std::chrono::duration_cast<float_seconds>(limit);
    }

private:
    // now + d in the clock's own duration, saturating: after() for every unit, and resolve() for
    // the socket's timeout. Out of line, so that resolve() stays small enough to inline where
    // there is no timeout; not a template, so that resolve() instantiates none.
    SOCKFRAME_NOINLINE static clock::time_point saturating_after(clock::duration d) noexcept {
        const auto now = clock::now();
        if (d <= clock::duration::zero()) return now;
        if (d >= (clock::time_point::max)() - now) return (clock::time_point::max)();
        return now + d;
    }

    enum class kind : unsigned char { socket_default, at, never };
    constexpr explicit deadline(kind k) noexcept : kind_(k) {}
    kind kind_ = kind::socket_default;
    clock::time_point when_{};
};

SOCKFRAME_NAMESPACE_END
