// SPDX-License-Identifier: MIT
#pragma once
/// sockframe: sockets and message framing for C++17. Include this for everything but the
/// iostream adapters (<sockframe/iostream.hpp>, which bring <istream> and <ostream>), TLS
/// (<sockframe/tls.hpp>) and the Asio bridge (<sockframe/asio.hpp>).

#include <sockframe/version.hpp>
#include <sockframe/config.hpp>
#include <sockframe/buffer.hpp>
#include <sockframe/error.hpp>
#include <sockframe/deadline.hpp>
#include <sockframe/address.hpp>
#include <sockframe/resolve.hpp>
#include <sockframe/policies.hpp>
#include <sockframe/options.hpp>
#include <sockframe/socket.hpp>
#include <sockframe/listener.hpp>
#include <sockframe/poller.hpp>
#include <sockframe/event_loop.hpp>
#include <sockframe/codec.hpp>
#include <sockframe/codec_traits.hpp>
#include <sockframe/length_prefix.hpp>
#include <sockframe/delimiter.hpp>
#include <sockframe/fixed_size.hpp>
#include <sockframe/compose.hpp>
#include <sockframe/netstring.hpp>
#include <sockframe/resp.hpp>
#include <sockframe/mqtt.hpp>
#include <sockframe/websocket.hpp>
#include <sockframe/text_length.hpp>
#include <sockframe/chunked.hpp>
#include <sockframe/cobs.hpp>
#include <sockframe/proxy_protocol.hpp>
#include <sockframe/any_codec.hpp>
#include <sockframe/framed.hpp>
#include <sockframe/server.hpp>
#include <sockframe/unix.hpp>
#include <sockframe/file_frame.hpp>
#include <sockframe/vsock.hpp>
// C++20 coroutines on the event loop: only where the compiler has them (empty otherwise).
#if defined(__cpp_impl_coroutine) && __cpp_impl_coroutine >= 201902L
#include <sockframe/coro.hpp>
#endif
