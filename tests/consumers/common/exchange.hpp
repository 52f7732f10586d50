#pragma once
// The consumer's own code: it does not expose sockframe in its interface.
#include <string>

/// Sends `message` over a loopback TCP connection (listener on an ephemeral port) and returns
/// what the accepted side read.
std::string tcp_round_trip(const std::string& message);
