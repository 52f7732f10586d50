// SPDX-License-Identifier: MIT
#pragma once
/// TLS for sockframe with the default backend (OpenSSL 3): tls_stream, tls_listener and the
/// aliases most programs want. Not part of <sockframe/sockframe.hpp>: include it and link
/// sockframe::tls (OpenSSL::SSL). For another backend include <sockframe/tls/mbedtls.hpp> and
/// name it: tls_stream<tcp_stream, mbedtls_backend>.
///
/// A client in a few lines:
///
///     auto ctx = sf::tls_context::client();          // system trust store, host check, SNI, TLS 1.2+
///     auto s = sf::tls_tcp_stream::connect("example.com", "443", ctx, std::chrono::seconds(5));
///     sf::framed conn{std::move(s), sf::length_prefix<std::uint32_t>{}};

#include <sockframe/listener.hpp>
#include <sockframe/socket.hpp>
#include <sockframe/tls/openssl.hpp>
#include <sockframe/tls/stream.hpp>

SOCKFRAME_NAMESPACE_BEGIN

/// The default backend's configuration (OpenSSL).
using tls_context = openssl_backend::context;
/// TLS over a blocking TCP stream.
using tls_tcp_stream = tls_stream<tcp_stream, openssl_backend>;
/// TLS over a non-blocking TCP stream.
using tls_tcp_stream_nb = tls_stream<tcp_stream_nb, openssl_backend>;
/// TLS over a blocking Unix-domain stream.
using tls_unix_stream = tls_stream<unix_stream, openssl_backend>;
/// TLS over a non-blocking Unix-domain stream.
using tls_unix_stream_nb = tls_stream<unix_stream_nb, openssl_backend>;
/// A TCP listener giving TLS server streams.
using tls_tcp_listener = tls_listener<tcp_listener, openssl_backend>;
/// A non-blocking TCP listener giving TLS server streams (framed_server).
using tls_tcp_listener_nb = tls_listener<tcp_listener_nb, openssl_backend>;
/// A non-blocking Unix-domain listener giving TLS server streams.
using tls_unix_listener_nb = tls_listener<unix_listener_nb, openssl_backend>;

SOCKFRAME_NAMESPACE_END
