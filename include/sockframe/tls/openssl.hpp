// SPDX-License-Identifier: MIT
#pragma once
/// openssl_backend: the TLS backend policy over OpenSSL 3 (libssl), for tls_stream and
/// tls_listener. Link OpenSSL::SSL (CMake target sockframe::tls).
///
/// openssl_backend::context is a shared, copyable handle on an SSL_CTX. A client context is safe
/// by default: it verifies the peer against the system trust store, checks the host name, sends
/// SNI and refuses anything below TLS 1.2; each of these is turned off only by a call whose name
/// starts with insecure_. A server context needs a certificate chain and a key.

#include <sockframe/tls/stream.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {
/// OpenSSL's library errors (ERR_get_error codes).
class openssl_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "sockframe.tls.openssl"; }
    std::string message(int value) const override {
        char text[256];
        ERR_error_string_n(static_cast<unsigned long>(value), text, sizeof text);
        return text;
    }
};
/// OpenSSL's certificate-verification results (X509_V_ERR_*).
class openssl_verify_category_impl : public tls_verify_category {
public:
    const char* name() const noexcept override { return "sockframe.tls.openssl.verify"; }
    std::string message(int value) const override {
        return std::string("certificate verify failed: ") + X509_verify_cert_error_string(value);
    }
};
}  // namespace detail

/// The category of OpenSSL's library errors.
inline const std::error_category& openssl_category() noexcept {
    static const detail::openssl_category_impl category;
    return category;
}
/// The category of OpenSSL's certificate-verification results.
inline const std::error_category& openssl_verify_category() noexcept {
    static const detail::openssl_verify_category_impl category;
    return category;
}

/// A resumable client session (tls_stream::engine()->session()); empty when there is none.
class openssl_session {
public:
    openssl_session() = default;
    /// Takes one reference on `s` (nullptr: empty).
    explicit openssl_session(SSL_SESSION* s) noexcept : s_(s, &SSL_SESSION_free) {}
    /// Whether there is a session.
    explicit operator bool() const noexcept { return static_cast<bool>(s_); }
    /// The OpenSSL session (owned by this object).
    SSL_SESSION* native_handle() const noexcept { return s_.get(); }

private:
    std::shared_ptr<SSL_SESSION> s_;
};

/// The OpenSSL backend policy. See the top of this header.
struct openssl_backend {
    /// The SNI name -> context table and ALPN list a server context's callbacks read.
    struct shared_state {
        /// The ALPN protocols, in wire format (each name after its length byte).
        std::vector<unsigned char> alpn;
        /// Server: the contexts selected by SNI name (lower case).
        std::map<std::string, std::shared_ptr<SSL_CTX>> by_name;
        /// The states of the contexts in `by_name`: their SSL_CTX's callbacks point at them, so
        /// they live as long as this one (a connection switched to such a context may outlive it).
        std::vector<std::shared_ptr<const shared_state>> others;
        /// Client: check the host name against the certificate.
        bool check_host = true;
        /// Client: send the host name as SNI.
        bool send_sni = true;
        /// Kernel TLS asked for (streams then use OpenSSL's socket BIO).
        bool kernel_tls = false;
    };

    /// Configuration shared by many streams (an SSL_CTX). Copies share it. Each setter throws
    /// std::system_error (OpenSSL's reason) or, given an error_code, never throws.
    class context {
    public:
        /// An empty context (usable only after assignment).
        context() = default;

        /// A client context: verification against the system trust store, host name check and
        /// SNI on, TLS 1.2 minimum.
        static context client() { return context(tls_role::client); }
        /// A server context: add a certificate chain and its key before use.
        static context server() { return context(tls_role::server); }

        /// The role this context was made for.
        tls_role role() const noexcept { return role_; }
        /// The SSL_CTX (for settings this class does not wrap).
        SSL_CTX* native_handle() const noexcept { return ctx_.get(); }

        /// Trusts the CA certificates in PEM file `path` (in addition to the system store).
        context& load_verify_file(const std::string& path) {
            check(SSL_CTX_load_verify_locations(ctx_.get(), path.c_str(), nullptr) == 1, "load_verify_file");
            return *this;
        }
        /// Trusts the CA certificates in directory `path` (hashed names, as c_rehash makes them).
        context& load_verify_dir(const std::string& path) {
            check(SSL_CTX_load_verify_locations(ctx_.get(), nullptr, path.c_str()) == 1, "load_verify_dir");
            return *this;
        }
        /// Trusts the CA certificates in PEM text `pem`.
        context& add_certificate_authority(std::string_view pem) {
            X509_STORE* store = SSL_CTX_get_cert_store(ctx_.get());
            bool any = false;
            for_each_certificate(pem, [&](X509* cert) {
                check(X509_STORE_add_cert(store, cert) == 1, "add_certificate_authority");
                any = true;
            });
            check(any, "add_certificate_authority");
            return *this;
        }

        /// Turns certificate verification off (the peer is not authenticated).
        context& insecure_no_verify() {
            SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
            return *this;
        }
        /// Turns the host name check off (any trusted certificate is accepted for any name).
        context& insecure_no_hostname_check() {
            state_->check_host = false;
            return *this;
        }
        /// Stops sending the host name as SNI.
        context& insecure_no_sni() {
            state_->send_sni = false;
            return *this;
        }
        /// Raises the lowest accepted protocol version (TLS 1.2 is the default and the floor).
        context& set_min_version(tls_version v) {
            check(SSL_CTX_set_min_proto_version(
                      ctx_.get(), v == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION) == 1,
                  "set_min_version");
            return *this;
        }

        /// ALPN: a client offers these protocols in order; a server picks the first of its own
        /// list that the client offers (none in common: no ALPN, the handshake goes on).
        context& set_alpn(const std::vector<std::string>& protocols) {
            std::vector<unsigned char> wire;
            for (const std::string& p : protocols) {
                if (p.empty() || p.size() > 255)
                    throw std::system_error(errc::invalid_argument, "sockframe: set_alpn");
                wire.push_back(static_cast<unsigned char>(p.size()));
                wire.insert(wire.end(), p.begin(), p.end());
            }
            state_->alpn = wire;
            if (role_ == tls_role::client)
                check(
                    SSL_CTX_set_alpn_protos(ctx_.get(), wire.data(), static_cast<unsigned>(wire.size())) == 0,
                    "set_alpn");
            return *this;
        }

        /// The certificate chain (leaf first) from PEM file `path`.
        context& use_certificate_chain_file(const std::string& path) {
            check(SSL_CTX_use_certificate_chain_file(ctx_.get(), path.c_str()) == 1,
                  "use_certificate_chain_file");
            return *this;
        }
        /// The private key from PEM file `path`; checked against the certificate.
        context& use_private_key_file(const std::string& path) {
            check(SSL_CTX_use_PrivateKey_file(ctx_.get(), path.c_str(), SSL_FILETYPE_PEM) == 1,
                  "use_private_key_file");
            check(SSL_CTX_check_private_key(ctx_.get()) == 1, "use_private_key_file");
            return *this;
        }
        /// The certificate chain (leaf first) from PEM text.
        context& use_certificate_chain(std::string_view pem) {
            bool leaf = true;
            for_each_certificate(pem, [&](X509* cert) {
                if (leaf)
                    check(SSL_CTX_use_certificate(ctx_.get(), cert) == 1, "use_certificate_chain");
                else
                    check(SSL_CTX_add1_chain_cert(ctx_.get(), cert) == 1, "use_certificate_chain");
                leaf = false;
            });
            check(!leaf, "use_certificate_chain");
            return *this;
        }
        /// The private key from PEM text; checked against the certificate.
        context& use_private_key(std::string_view pem) {
            std::unique_ptr<BIO, decltype(&BIO_free)> bio(
                BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
            check(bio != nullptr, "use_private_key");
            std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
                PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
            check(key != nullptr, "use_private_key");
            check(SSL_CTX_use_PrivateKey(ctx_.get(), key.get()) == 1, "use_private_key");
            check(SSL_CTX_check_private_key(ctx_.get()) == 1, "use_private_key");
            return *this;
        }

        /// Server: for a client that asks for `server_name` (SNI), use `other`'s certificate and
        /// key instead of this context's.
        context& add_server_name(const std::string& server_name, const context& other) {
            state_->by_name[lower(server_name)] = other.ctx_;
            if (other.state_ != state_) state_->others.push_back(other.state_);
            return *this;
        }
        /// Server: ask clients for a certificate, verified against load_verify_file/dir; with
        /// `required`, a client without one is refused.
        context& verify_client(bool required = true) {
            SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER | (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                               nullptr);
            return *this;
        }
        /// Linux kernel TLS: after the handshake the kernel encrypts and decrypts (when OpenSSL,
        /// the kernel's tls module and the cipher allow; see tls_stream::kernel_tls_send()).
        /// Streams then use OpenSSL's own socket BIO, which writes without MSG_NOSIGNAL: a program
        /// using kTLS ignores SIGPIPE itself.
        context& enable_kernel_tls(bool on = true) {
#if defined(SSL_OP_ENABLE_KTLS)
            if (on)
                SSL_CTX_set_options(ctx_.get(), SSL_OP_ENABLE_KTLS);
            else
                SSL_CTX_clear_options(ctx_.get(), SSL_OP_ENABLE_KTLS);
            state_->kernel_tls = on;
#else
            if (on) throw std::system_error(errc::not_supported, "sockframe: enable_kernel_tls");
#endif
            return *this;
        }

        /// Whether enable_kernel_tls() is on.
        bool kernel_tls() const noexcept { return state_ && state_->kernel_tls; }
        /// The state the engine reads (ALPN list, SNI table, host check).
        const shared_state& state() const noexcept { return *state_; }

    private:
        explicit context(tls_role role) : role_(role), state_(std::make_shared<shared_state>()) {
            SSL_CTX* raw = SSL_CTX_new(role == tls_role::client ? TLS_client_method() : TLS_server_method());
            check(raw != nullptr, "context");
            ctx_.reset(raw, &SSL_CTX_free);
            SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
            SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
            SSL_CTX_clear_mode(raw, SSL_MODE_AUTO_RETRY);
            if (role == tls_role::client) {
                SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
                check(SSL_CTX_set_default_verify_paths(raw) == 1, "context");
                SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_CLIENT);
            } else {
                static const unsigned char id[] = "sockframe";
                SSL_CTX_set_session_id_context(raw, id, sizeof id - 1);
                using callback = void (*)();
                SSL_CTX_callback_ctrl(raw, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                                      reinterpret_cast<callback>(&on_server_name));
                SSL_CTX_set_tlsext_servername_arg(raw, state_.get());
                SSL_CTX_set_alpn_select_cb(raw, &on_alpn, state_.get());
            }
        }

        static std::string lower(std::string s) {
            for (char& c : s)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            return s;
        }

        /// The SSL ex_data slot holding the state of the context a connection was made with: its
        /// ALPN list stays the one selected from after SNI switches the certificate's context.
        static int front_state_index() {
            static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
            return index;
        }

        static int on_server_name(SSL* ssl, int*, void* arg) {
            const auto* state = static_cast<const shared_state*>(arg);
            const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
            if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;
            auto it = state->by_name.find(lower(name));
            if (it != state->by_name.end()) {
                SSL_set_ex_data(ssl, front_state_index(), const_cast<shared_state*>(state));
                SSL_set_SSL_CTX(ssl, it->second.get());
            }
            return SSL_TLSEXT_ERR_OK;
        }

        static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                           const unsigned char* in, unsigned inlen, void* arg) {
            // the connection's own context, also when SNI switched to another one (whose state
            // the connection's context keeps alive: shared_state::others)
            const void* front = SSL_get_ex_data(ssl, front_state_index());
            const auto* state = static_cast<const shared_state*>(front != nullptr ? front : arg);
            if (state->alpn.empty()) return SSL_TLSEXT_ERR_NOACK;
            unsigned char* chosen = nullptr;
            if (SSL_select_next_proto(&chosen, outlen, state->alpn.data(),
                                      static_cast<unsigned>(state->alpn.size()), in,
                                      inlen) != OPENSSL_NPN_NEGOTIATED)
                return SSL_TLSEXT_ERR_NOACK;
            *out = chosen;
            return SSL_TLSEXT_ERR_OK;
        }

        template <typename F>
        static void for_each_certificate(std::string_view pem, F&& f) {
            std::unique_ptr<BIO, decltype(&BIO_free)> bio(
                BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
            check(bio != nullptr, "certificate");
            for (;;) {
                std::unique_ptr<X509, decltype(&X509_free)> cert(
                    PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
                if (!cert) break;
                f(cert.get());
            }
            ERR_clear_error();  // the end of the text reads as "no start line"
        }

        static void check(bool ok, const char* what) {
            if (ok) return;
            const unsigned long e = ERR_get_error();
            ERR_clear_error();
            throw std::system_error(e != 0 ? std::error_code(static_cast<int>(e), openssl_category())
                                           : std::error_code(tls_errc::not_configured),
                                    std::string("sockframe: tls context: ") + what);
        }

        tls_role role_ = tls_role::client;
        std::shared_ptr<SSL_CTX> ctx_;
        std::shared_ptr<shared_state> state_;
    };

    /// One connection's TLS state (an SSL object on the socket's descriptor).
    class engine {
    public:
        /// An engine on descriptor `fd`; `ec` says whether it was set up.
        engine(const context& ctx, detail::native_handle_type fd, tls_role role, std::string_view host,
               std::error_code& ec)
            : ctx_(ctx), ssl_(SSL_new(ctx.native_handle()), &SSL_free) {
            ec.clear();
            if (!ssl_ || ctx.native_handle() == nullptr) {
                fail(ec);
                return;
            }
            if (role != ctx.role()) {
                ec = tls_errc::not_configured;
                return;
            }
            if (ctx.kernel_tls()) {
                // kTLS needs OpenSSL's own socket BIO (which writes without MSG_NOSIGNAL)
                if (SSL_set_fd(ssl_.get(), as_int(fd)) != 1) {
                    fail(ec);
                    return;
                }
            } else {
                io_ = std::make_unique<socket_io>();
                io_->fd = fd;
                BIO* bio = BIO_new(socket_io::method());
                if (bio == nullptr) {
                    fail(ec);
                    return;
                }
                BIO_set_data(bio, io_.get());
                BIO_set_init(bio, 1);
                SSL_set_bio(ssl_.get(), bio, bio);
            }
            if (role == tls_role::client) {
                SSL_set_connect_state(ssl_.get());
                if (!host.empty()) {
                    const std::string name(host);
                    const bool is_ip = looks_like_ip(name);
                    if (ctx.state().send_sni && !is_ip &&
                        SSL_ctrl(ssl_.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                 const_cast<char*>(name.c_str())) != 1) {
                        fail(ec);
                        return;
                    }
                    if (ctx.state().check_host) {
                        X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
                        const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                             : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
                        if (ok != 1) {
                            fail(ec);
                            return;
                        }
                    }
                }
            } else {
                SSL_set_accept_state(ssl_.get());
            }
        }

        /// The SSL object.
        SSL* native_handle() const noexcept { return ssl_.get(); }
        /// Whether the handshake is over.
        bool handshake_done() const noexcept { return SSL_is_init_finished(ssl_.get()) == 1; }
        /// Decrypted bytes waiting in the engine.
        std::size_t pending() const noexcept {
            const int n = SSL_pending(ssl_.get());
            return n > 0 ? static_cast<std::size_t>(n) : 0;
        }
        /// The ALPN protocol chosen ("" if none).
        std::string alpn_protocol() const {
            const unsigned char* p = nullptr;
            unsigned n = 0;
            SSL_get0_alpn_selected(ssl_.get(), &p, &n);
            return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
        }
        /// Whether kTLS encrypts sending.
        bool kernel_tls_send() const noexcept {
#if defined(SSL_OP_ENABLE_KTLS)
            return BIO_get_ktls_send(SSL_get_wbio(ssl_.get())) != 0;
#else
            return false;
#endif
        }
        /// Whether kTLS decrypts receiving.
        bool kernel_tls_receive() const noexcept {
#if defined(SSL_OP_ENABLE_KTLS)
            return BIO_get_ktls_recv(SSL_get_rbio(ssl_.get())) != 0;
#else
            return false;
#endif
        }
        /// Client: the session to resume next time (after the handshake; TLS 1.3 tickets arrive
        /// with the first bytes read).
        openssl_session session() const noexcept { return openssl_session(SSL_get1_session(ssl_.get())); }
        /// Client, before the handshake: resume `s`.
        bool set_session(const openssl_session& s) noexcept {
            return s && SSL_set_session(ssl_.get(), s.native_handle()) == 1;
        }
        /// Whether the handshake resumed a session.
        bool session_reused() const noexcept { return SSL_session_reused(ssl_.get()) == 1; }
        /// Whether the peer presented a certificate (that verified, when verification is on).
        bool peer_certificate() const noexcept {
            X509* cert = SSL_get0_peer_certificate(ssl_.get());
            return cert != nullptr;
        }

        /// One handshake step.
        tls_status handshake(std::error_code& ec) {
            ERR_clear_error();
            return settle(SSL_do_handshake(ssl_.get()), ec);
        }
        /// One read of at most `size` bytes into `data`.
        tls_status read(void* data, std::size_t size, std::size_t& bytes, std::error_code& ec) {
            clear_stale_errors();
            const tls_status st = settle(SSL_read_ex(ssl_.get(), data, size, &bytes) == 1 ? 1 : -1, ec);
            if (st != tls_status::done) bytes = 0;
            return st;
        }
        /// One write of at most `size` bytes from `data` (at least one record).
        tls_status write(const void* data, std::size_t size, std::size_t& bytes, std::error_code& ec) {
            clear_stale_errors();
            const tls_status st = settle(SSL_write_ex(ssl_.get(), data, size, &bytes) == 1 ? 1 : -1, ec);
            if (st != tls_status::done) bytes = 0;
            return st;
        }
        /// Bytes of the peer's that were read from the socket before TLS began (after a PROXY
        /// header, say): the engine reads them before anything from the socket. Not with kTLS
        /// (operation_not_supported). Copies them; may allocate.
        void feed_input(const void* data, std::size_t size, std::error_code& ec) {
            ec.clear();
            if (!io_) {
                ec = std::make_error_code(std::errc::operation_not_supported);
                return;
            }
            const auto* bytes = static_cast<const unsigned char*>(data);
            io_->early.insert(io_->early.end(), bytes, bytes + size);
        }
        /// Sends close_notify.
        tls_status shutdown(std::error_code& ec) {
            ERR_clear_error();
            const int r = SSL_shutdown(ssl_.get());
            if (r >= 0) {
                ec.clear();
                return tls_status::done;  // 0: sent, the peer's not yet seen; 1: both
            }
            return settle(r, ec);
        }

    private:
        /// OpenSSL takes descriptors as int (a SOCKET on Windows fits: OpenSSL casts it back).
        template <typename Handle>
        static int as_int(Handle h) noexcept {
            if constexpr (std::is_same_v<Handle, int>) {
                return h;
            } else {
                return static_cast<int>(h);
            }
        }

        static bool looks_like_ip(const std::string& name) {
            if (name.find(':') != std::string::npos) return true;
            for (char c : name)
                if (!((c >= '0' && c <= '9') || c == '.')) return false;
            return !name.empty();
        }

        /// SSL_get_error() reads the thread's error queue: it must hold nothing from before the
        /// call. Every failure handled here empties it, so it is only peeked at (clearing it
        /// unconditionally walks all of its slots: about 800 instructions per call, a twentieth
        /// of what a 16-byte record costs).
        static void clear_stale_errors() noexcept {
            if (ERR_peek_error() != 0) ERR_clear_error();
        }

        void fail(std::error_code& ec) {
            const unsigned long e = ERR_get_error();
            ERR_clear_error();
            ec = e != 0 ? std::error_code(static_cast<int>(e), openssl_category())
                        : std::error_code(tls_errc::handshake_failed);
        }

        tls_status settle(int r, std::error_code& ec) {
            ec.clear();
            if (r > 0) return tls_status::done;
            switch (SSL_get_error(ssl_.get(), r)) {
                case SSL_ERROR_WANT_READ: return tls_status::want_read;
                case SSL_ERROR_WANT_WRITE: return tls_status::want_write;
                case SSL_ERROR_ZERO_RETURN: return tls_status::closed;
                case SSL_ERROR_SYSCALL: {
                    const int saved = errno;
                    ERR_clear_error();
                    // no error in the queue and no errno: the transport ended without close_notify
                    ec = saved != 0 ? detail::error_from(saved) : std::error_code(tls_errc::truncated);
                    return tls_status::failed;
                }
                case SSL_ERROR_SSL: {
                    const unsigned long e = ERR_peek_error();
                    ERR_clear_error();
                    if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
                        ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                        ec = tls_errc::truncated;
                    } else if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
                               ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
                        const long v = SSL_get_verify_result(ssl_.get());
                        ec = std::error_code(static_cast<int>(v), openssl_verify_category());
                    } else {
                        ec = e != 0 ? std::error_code(static_cast<int>(e), openssl_category())
                                    : std::error_code(tls_errc::handshake_failed);
                    }
                    return tls_status::failed;
                }
                default: {
                    ERR_clear_error();
                    ec = tls_errc::handshake_failed;
                    return tls_status::failed;
                }
            }
        }

        /// The socket under a BIO of our own: sends never raise SIGPIPE (MSG_NOSIGNAL), EINTR is
        /// retried, and end-of-file is told apart from would-block.
        struct socket_io {
            detail::native_handle_type fd{};
            bool eof = false;
            std::vector<unsigned char> early;  // bytes read before TLS began (fed), read first
            std::size_t early_at = 0;

            static BIO_METHOD* method() {
                static BIO_METHOD* const m = [] {
                    BIO_METHOD* made =
                        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sockframe socket");
                    if (made != nullptr) {
                        BIO_meth_set_write_ex(made, &write);
                        BIO_meth_set_read_ex(made, &read);
                        BIO_meth_set_ctrl(made, &control);
                    }
                    return made;
                }();
                return m;
            }
            static int write(BIO* b, const char* data, size_t size, size_t* written) {
                auto* io = static_cast<socket_io*>(BIO_get_data(b));
                BIO_clear_retry_flags(b);
                std::error_code ec;
                const std::ptrdiff_t n = detail::send_once(io->fd, data, size, 0, ec);
                if (n >= 0) {
                    *written = static_cast<size_t>(n);
                    return 1;
                }
                if (is_would_block(ec)) BIO_set_retry_write(b);
                errno = ec.value();
                return 0;
            }
            static int read(BIO* b, char* data, size_t size, size_t* got) {
                auto* io = static_cast<socket_io*>(BIO_get_data(b));
                BIO_clear_retry_flags(b);
                if (io->early_at < io->early.size()) {
                    const std::size_t left = io->early.size() - io->early_at;
                    const std::size_t take = size < left ? size : left;
                    std::memcpy(data, io->early.data() + io->early_at, take);
                    io->early_at += take;
                    if (io->early_at == io->early.size()) {
                        io->early.clear();
                        io->early.shrink_to_fit();
                        io->early_at = 0;
                    }
                    *got = take;
                    return 1;
                }
                std::error_code ec;
                const std::ptrdiff_t n = detail::receive_once(io->fd, data, size, 0, ec);
                if (n > 0) {
                    *got = static_cast<size_t>(n);
                    return 1;
                }
                if (n == 0) {
                    io->eof = size > 0;
                    errno = 0;
                    return 0;
                }
                if (is_would_block(ec)) BIO_set_retry_read(b);
                errno = ec.value();
                return 0;
            }
            static long control(BIO* b, int what, long, void*) {
                switch (what) {
                    case BIO_CTRL_EOF: return static_cast<socket_io*>(BIO_get_data(b))->eof ? 1 : 0;
                    case BIO_CTRL_FLUSH:
                    case BIO_CTRL_DUP: return 1;
                    default: return 0;
                }
            }
        };

        context ctx_;  // keeps the SSL_CTX (and its callbacks' state) alive
        std::unique_ptr<socket_io> io_;
        std::unique_ptr<SSL, decltype(&SSL_free)> ssl_;
    };
};

/// The OpenSSL configuration type.
using openssl_context = openssl_backend::context;

SOCKFRAME_NAMESPACE_END
