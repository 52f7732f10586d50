// SPDX-License-Identifier: MIT
#pragma once
/// mbedtls_backend: the TLS backend policy over Mbed TLS 2.28 (Debian libmbedtls-dev), for
/// tls_stream and tls_listener: the same seam as openssl_backend, the same safe client defaults
/// (verification against the system trust store, host name check, SNI, TLS 1.2 minimum; off only
/// through insecure_ calls). Link mbedtls, mbedx509 and mbedcrypto (CMake sockframe::tls_mbedtls).
///
/// Differences from the OpenSSL backend: TLS 1.2 only (Mbed TLS 2.28's TLS 1.3 is experimental
/// and off in distribution builds: set_min_version(tls1_3) throws errc::not_supported); no session
/// resumption API and no kernel TLS. A context (its random generator) is used by one thread at a
/// time: give each thread its own context.

#include <sockframe/tls/stream.hpp>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include <winsock2.h>
#else
#include <arpa/inet.h>
#include <sys/socket.h>
#endif

SOCKFRAME_NAMESPACE_BEGIN

namespace detail {
/// Mbed TLS's error codes (negative numbers), as positive values.
class mbedtls_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "sockframe.tls.mbedtls"; }
    std::string message(int value) const override {
        char text[256];
        mbedtls_strerror(-value, text, sizeof text);
        return text;
    }
};
/// Mbed TLS's certificate-verification flags (MBEDTLS_X509_BADCERT_*).
class mbedtls_verify_category_impl : public tls_verify_category {
public:
    const char* name() const noexcept override { return "sockframe.tls.mbedtls.verify"; }
    std::string message(int value) const override {
        const auto flags = static_cast<std::uint32_t>(value);
        // the usual words first (as OpenSSL says them), then Mbed TLS's own list
        std::string reasons;
        if (flags & MBEDTLS_X509_BADCERT_EXPIRED) reasons += "certificate has expired; ";
        if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) reasons += "hostname mismatch; ";
        if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
            reasons += "certificate not trusted: self-signed or issued by an unknown CA; ";
        char text[512];
        const int n = mbedtls_x509_crt_verify_info(text, sizeof text, "", flags);
        if (n > 0) reasons.append(text, static_cast<std::size_t>(n));
        for (char& c : reasons)
            if (c == '\n') c = ';';
        while (!reasons.empty() && (reasons.back() == ';' || reasons.back() == ' ')) reasons.pop_back();
        if (reasons.empty()) reasons = "unknown reason";
        return "certificate verify failed: " + reasons;
    }
};
}  // namespace detail

/// The category of Mbed TLS's library errors.
inline const std::error_category& mbedtls_category() noexcept {
    static const detail::mbedtls_category_impl category;
    return category;
}
/// The category of Mbed TLS's certificate-verification flags.
inline const std::error_category& mbedtls_verify_category() noexcept {
    static const detail::mbedtls_verify_category_impl category;
    return category;
}

/// The Mbed TLS backend policy. See the top of this header.
struct mbedtls_backend {
    /// Everything a context owns; engines keep it alive.
    struct shared_state {
        /// The configuration every engine of the context uses.
        mbedtls_ssl_config conf;
        /// The entropy source of `rng`.
        mbedtls_entropy_context entropy;
        /// The random generator (one thread at a time).
        mbedtls_ctr_drbg_context rng;
        /// Trusted CA certificates.
        mbedtls_x509_crt ca;
        /// Own certificate chain.
        mbedtls_x509_crt own;
        /// Own private key.
        mbedtls_pk_context key;
        /// Client: check the host name against the certificate.
        bool check_host = true;
        /// Client: send the host name as SNI.
        bool send_sni = true;
        /// The ALPN protocols, and the null-terminated list Mbed TLS reads.
        std::vector<std::string> alpn;
        /// The list of pointers into `alpn` handed to Mbed TLS.
        std::vector<const char*> alpn_list;
        /// Server: the contexts selected by SNI name (lower case).
        std::map<std::string, std::shared_ptr<shared_state>> by_name;

        /// Initialises every Mbed TLS object.
        shared_state() {
            mbedtls_ssl_config_init(&conf);
            mbedtls_entropy_init(&entropy);
            mbedtls_ctr_drbg_init(&rng);
            mbedtls_x509_crt_init(&ca);
            mbedtls_x509_crt_init(&own);
            mbedtls_pk_init(&key);
        }
        /// Frees every Mbed TLS object.
        ~shared_state() {
            mbedtls_ssl_config_free(&conf);
            mbedtls_pk_free(&key);
            mbedtls_x509_crt_free(&own);
            mbedtls_x509_crt_free(&ca);
            mbedtls_ctr_drbg_free(&rng);
            mbedtls_entropy_free(&entropy);
        }
        shared_state(const shared_state&) = delete;
        shared_state& operator=(const shared_state&) = delete;
    };

    /// Configuration shared by many streams. Copies share it. Setters throw std::system_error.
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
        /// The mbedtls_ssl_config (for settings this class does not wrap).
        mbedtls_ssl_config* native_handle() const noexcept { return s_ ? &s_->conf : nullptr; }
        /// What engines read.
        const std::shared_ptr<shared_state>& state() const noexcept { return s_; }

        /// Trusts the CA certificates in PEM file `path` (in addition to the system store).
        context& load_verify_file(const std::string& path) {
            check(mbedtls_x509_crt_parse_file(&s_->ca, path.c_str()), "load_verify_file");
            trust();
            return *this;
        }
        /// Trusts the CA certificates in directory `path`.
        context& load_verify_dir(const std::string& path) {
            const int r = mbedtls_x509_crt_parse_path(&s_->ca, path.c_str());
            check(r < 0 ? r : 0, "load_verify_dir");
            trust();
            return *this;
        }
        /// Trusts the CA certificates in PEM text `pem`.
        context& add_certificate_authority(std::string_view pem) {
            const std::string text(pem);
            check(mbedtls_x509_crt_parse(&s_->ca, reinterpret_cast<const unsigned char*>(text.c_str()),
                                         text.size() + 1),
                  "add_certificate_authority");
            trust();
            return *this;
        }
        /// Turns certificate verification off (the peer is not authenticated).
        context& insecure_no_verify() {
            mbedtls_ssl_conf_authmode(&s_->conf, MBEDTLS_SSL_VERIFY_NONE);
            return *this;
        }
        /// Turns the host name check off (any trusted certificate is accepted for any name).
        context& insecure_no_hostname_check() {
            s_->check_host = false;
            return *this;
        }
        /// Stops sending the host name as SNI.
        context& insecure_no_sni() {
            s_->send_sni = false;
            return *this;
        }
        /// Raises the lowest accepted protocol version: TLS 1.2 is the floor and the only version.
        context& set_min_version(tls_version v) {
            if (v != tls_version::tls1_2)
                throw std::system_error(errc::not_supported, "sockframe: set_min_version");
            return *this;
        }
        /// ALPN: a client offers these in order; a server picks the first of its own list the
        /// client offers (none in common: Mbed TLS refuses the handshake).
        context& set_alpn(const std::vector<std::string>& protocols) {
            s_->alpn = protocols;
            s_->alpn_list.clear();
            for (const std::string& p : s_->alpn) s_->alpn_list.push_back(p.c_str());
            s_->alpn_list.push_back(nullptr);
            check(mbedtls_ssl_conf_alpn_protocols(&s_->conf, s_->alpn_list.data()), "set_alpn");
            return *this;
        }
        /// The certificate chain (leaf first) from PEM file `path`.
        context& use_certificate_chain_file(const std::string& path) {
            check(mbedtls_x509_crt_parse_file(&s_->own, path.c_str()), "use_certificate_chain_file");
            return own();
        }
        /// The private key from PEM file `path`.
        context& use_private_key_file(const std::string& path) {
            check(mbedtls_pk_parse_keyfile(&s_->key, path.c_str(), nullptr), "use_private_key_file");
            return own();
        }
        /// The certificate chain (leaf first) from PEM text.
        context& use_certificate_chain(std::string_view pem) {
            const std::string text(pem);
            check(mbedtls_x509_crt_parse(&s_->own, reinterpret_cast<const unsigned char*>(text.c_str()),
                                         text.size() + 1),
                  "use_certificate_chain");
            return own();
        }
        /// The private key from PEM text.
        context& use_private_key(std::string_view pem) {
            const std::string text(pem);
            check(mbedtls_pk_parse_key(&s_->key, reinterpret_cast<const unsigned char*>(text.c_str()),
                                       text.size() + 1, nullptr, 0),
                  "use_private_key");
            return own();
        }
        /// Server: for a client that asks for `server_name` (SNI), use `other`'s certificate and key.
        context& add_server_name(const std::string& server_name, const context& other) {
            s_->by_name[lower(server_name)] = other.s_;
            return *this;
        }
        /// Server: ask clients for a certificate, verified against load_verify_file/dir; with
        /// `required`, a client without one is refused.
        context& verify_client(bool required = true) {
            mbedtls_ssl_conf_authmode(&s_->conf,
                                      required ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_OPTIONAL);
            return *this;
        }
        /// Kernel TLS: not offered by this backend (errc::not_supported when asked for).
        context& enable_kernel_tls(bool on = true) {
            if (on) throw std::system_error(errc::not_supported, "sockframe: enable_kernel_tls");
            return *this;
        }

        /// Lower-case ASCII (SNI names compare without case).
        static std::string lower(std::string s) {
            for (char& c : s)
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            return s;
        }

    private:
        explicit context(tls_role role) : role_(role), s_(std::make_shared<shared_state>()) {
            static const char personal[] = "sockframe";
            check(
                mbedtls_ctr_drbg_seed(&s_->rng, mbedtls_entropy_func, &s_->entropy,
                                      reinterpret_cast<const unsigned char*>(personal), sizeof personal - 1),
                "context");
            check(mbedtls_ssl_config_defaults(
                      &s_->conf, role == tls_role::client ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT),
                  "context");
            mbedtls_ssl_conf_rng(&s_->conf, mbedtls_ctr_drbg_random, &s_->rng);
            mbedtls_ssl_conf_min_version(&s_->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
            if (role == tls_role::client) {
                mbedtls_ssl_conf_authmode(&s_->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
                load_system_store();
            } else {
                mbedtls_ssl_conf_authmode(&s_->conf, MBEDTLS_SSL_VERIFY_NONE);
                mbedtls_ssl_conf_sni(&s_->conf, &on_server_name, s_.get());
            }
        }

        void load_system_store() {
            const char* const bundles[] = {"/etc/ssl/certs/ca-certificates.crt",
                                           "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
                                           "/etc/ssl/ca-bundle.pem"};
            for (const char* path : bundles)
                if (mbedtls_x509_crt_parse_file(&s_->ca, path) >= 0) break;
            trust();
        }
        void trust() {
            if (s_->ca.version != 0) mbedtls_ssl_conf_ca_chain(&s_->conf, &s_->ca, nullptr);
        }
        context& own() {
            if (s_->own.version != 0 && mbedtls_pk_get_type(&s_->key) != MBEDTLS_PK_NONE)
                check(mbedtls_ssl_conf_own_cert(&s_->conf, &s_->own, &s_->key), "certificate");
            return *this;
        }

        static int on_server_name(void* arg, mbedtls_ssl_context* ssl, const unsigned char* name,
                                  size_t size) {
            const auto* state = static_cast<const shared_state*>(arg);
            auto it = state->by_name.find(lower(std::string(reinterpret_cast<const char*>(name), size)));
            if (it == state->by_name.end()) return 0;  // this context's certificate
            return mbedtls_ssl_set_hs_own_cert(ssl, &it->second->own, &it->second->key);
        }

        static void check(int r, const char* what) {
            if (r == 0) return;
            throw std::system_error(std::error_code(-r, mbedtls_category()),
                                    std::string("sockframe: tls context: ") + what);
        }

        tls_role role_ = tls_role::client;
        std::shared_ptr<shared_state> s_;
    };

    /// One connection's TLS state (an mbedtls_ssl_context on the socket's descriptor).
    class engine {
    public:
        /// An engine on descriptor `fd`; `ec` says whether it was set up.
        engine(const context& ctx, detail::native_handle_type fd, tls_role role, std::string_view host,
               std::error_code& ec)
            : c_(std::make_unique<connection>()) {
            ec.clear();
            if (!ctx.state()) {
                ec = tls_errc::not_configured;
                return;
            }
            if (role != ctx.role()) {
                ec = tls_errc::not_configured;
                return;
            }
            c_->ctx = ctx.state();
            c_->fd = fd;
            if (const int r = mbedtls_ssl_setup(&c_->ssl, &c_->ctx->conf)) {
                ec = std::error_code(-r, mbedtls_category());
                return;
            }
            mbedtls_ssl_set_bio(&c_->ssl, c_.get(), &on_send, &on_receive, nullptr);
            if (role == tls_role::client && !host.empty()) {
                c_->host = std::string(host);
                c_->is_ip = parse_ip(c_->host, c_->ip);
                // mbedtls_ssl_set_hostname both sends SNI and checks the name; an IP address is
                // neither sent nor checked by it: on_verify compares it with the certificate's
                // IP entries instead.
                if (!c_->is_ip && (c_->ctx->send_sni || c_->ctx->check_host)) {
                    if (const int r = mbedtls_ssl_set_hostname(&c_->ssl, c_->host.c_str())) {
                        ec = std::error_code(-r, mbedtls_category());
                        return;
                    }
                }
                mbedtls_ssl_set_verify(&c_->ssl, &on_verify, c_.get());
            }
        }

        /// The mbedtls_ssl_context.
        mbedtls_ssl_context* native_handle() const noexcept { return &c_->ssl; }
        /// Whether the handshake is over.
        bool handshake_done() const noexcept { return c_->ssl.state == MBEDTLS_SSL_HANDSHAKE_OVER; }
        /// Decrypted bytes waiting in the engine.
        std::size_t pending() const noexcept { return mbedtls_ssl_get_bytes_avail(&c_->ssl); }
        /// The ALPN protocol chosen ("" if none).
        std::string alpn_protocol() const {
            const char* p = mbedtls_ssl_get_alpn_protocol(&c_->ssl);
            return p ? std::string(p) : std::string();
        }
        /// No kernel TLS with this backend.
        bool kernel_tls_send() const noexcept { return false; }
        /// No kernel TLS with this backend.
        bool kernel_tls_receive() const noexcept { return false; }

        /// One handshake step.
        tls_status handshake(std::error_code& ec) { return settle(mbedtls_ssl_handshake(&c_->ssl), ec); }
        /// One read of at most `size` bytes into `data`.
        tls_status read(void* data, std::size_t size, std::size_t& bytes, std::error_code& ec) {
            bytes = 0;
            const int r = mbedtls_ssl_read(&c_->ssl, static_cast<unsigned char*>(data), size);
            if (r > 0) {
                ec.clear();
                bytes = static_cast<std::size_t>(r);
                return tls_status::done;
            }
            if (r == 0) {  // the transport ended without close_notify
                ec = tls_errc::truncated;
                return tls_status::failed;
            }
            return settle(r, ec);
        }
        /// One write of at most `size` bytes from `data`. After want_write, the retry writes the
        /// same bytes (Mbed TLS requires the same length: it is remembered here).
        tls_status write(const void* data, std::size_t size, std::size_t& bytes, std::error_code& ec) {
            bytes = 0;
            if (c_->retry_size != 0 && size > c_->retry_size) size = c_->retry_size;
            const int r = mbedtls_ssl_write(&c_->ssl, static_cast<const unsigned char*>(data), size);
            if (r >= 0) {
                c_->retry_size = 0;
                ec.clear();
                bytes = static_cast<std::size_t>(r);
                return tls_status::done;
            }
            if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) c_->retry_size = size;
            return settle(r, ec);
        }
        /// Bytes of the peer's that were read from the socket before TLS began (after a PROXY
        /// header, say): the engine reads them before anything from the socket. Copies them.
        void feed_input(const void* data, std::size_t size, std::error_code& ec) {
            ec.clear();
            const auto* bytes = static_cast<const unsigned char*>(data);
            c_->early.insert(c_->early.end(), bytes, bytes + size);
        }
        /// Sends close_notify.
        tls_status shutdown(std::error_code& ec) { return settle(mbedtls_ssl_close_notify(&c_->ssl), ec); }

    private:
        struct connection {
            mbedtls_ssl_context ssl;
            std::shared_ptr<shared_state> ctx;
            detail::native_handle_type fd{};
            std::string host;
            bool is_ip = false;
            unsigned char ip[16] = {};
            std::size_t ip_size = 0;
            std::size_t retry_size = 0;
            std::vector<unsigned char> early;  // bytes read before TLS began (fed), read first
            std::size_t early_at = 0;
            connection() { mbedtls_ssl_init(&ssl); }
            ~connection() { mbedtls_ssl_free(&ssl); }
            connection(const connection&) = delete;
            connection& operator=(const connection&) = delete;
        };

        bool parse_ip(const std::string& text, unsigned char* out) {
            if (::inet_pton(AF_INET, text.c_str(), out) == 1) {
                c_->ip_size = 4;
                return true;
            }
            if (::inet_pton(AF_INET6, text.c_str(), out) == 1) {
                c_->ip_size = 16;
                return true;
            }
            return false;
        }

        static int on_send(void* arg, const unsigned char* data, size_t size) {
            auto* c = static_cast<connection*>(arg);
            std::error_code ec;
            const std::ptrdiff_t n = detail::send_once(c->fd, data, size, 0, ec);
            if (n >= 0) return static_cast<int>(n);
            return is_would_block(ec) ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
        }
        static int on_receive(void* arg, unsigned char* data, size_t size) {
            auto* c = static_cast<connection*>(arg);
            if (c->early_at < c->early.size()) {
                const std::size_t left = c->early.size() - c->early_at;
                std::size_t take = size < left ? size : left;
                if (take > 0x7fffffff) take = 0x7fffffff;
                std::memcpy(data, c->early.data() + c->early_at, take);
                c->early_at += take;
                if (c->early_at == c->early.size()) {
                    c->early.clear();
                    c->early.shrink_to_fit();
                    c->early_at = 0;
                }
                return static_cast<int>(take);
            }
            std::error_code ec;
            const std::ptrdiff_t n = detail::receive_once(c->fd, data, size, 0, ec);
            if (n >= 0) return static_cast<int>(n);
            if (is_would_block(ec)) return MBEDTLS_ERR_SSL_WANT_READ;
            return ec == std::errc::connection_reset ? MBEDTLS_ERR_NET_CONN_RESET
                                                     : MBEDTLS_ERR_NET_RECV_FAILED;
        }

        /// The leaf certificate: an IP address host is checked against its IP entries; with the
        /// host check off a name mismatch is forgiven.
        static int on_verify(void* arg, mbedtls_x509_crt* cert, int depth, std::uint32_t* flags) {
            const auto* c = static_cast<const connection*>(arg);
            if (depth != 0) return 0;
            if (!c->ctx->check_host) {
                *flags &= ~static_cast<std::uint32_t>(MBEDTLS_X509_BADCERT_CN_MISMATCH);
                return 0;
            }
            if (c->is_ip) {
                bool match = false;
                for (const mbedtls_x509_sequence* s = &cert->subject_alt_names;
                     s != nullptr && s->buf.p != nullptr; s = s->next) {
                    if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS) &&
                        s->buf.len == c->ip_size && std::memcmp(s->buf.p, c->ip, c->ip_size) == 0)
                        match = true;
                }
                if (!match) *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
            }
            return 0;
        }

        tls_status settle(int r, std::error_code& ec) {
            ec.clear();
            if (r >= 0) return tls_status::done;
            switch (r) {
                case MBEDTLS_ERR_SSL_WANT_READ: return tls_status::want_read;
                case MBEDTLS_ERR_SSL_WANT_WRITE: return tls_status::want_write;
                case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY: return tls_status::closed;
                case MBEDTLS_ERR_SSL_CONN_EOF: ec = tls_errc::truncated; return tls_status::failed;
                case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
                    ec = std::error_code(static_cast<int>(mbedtls_ssl_get_verify_result(&c_->ssl)),
                                         mbedtls_verify_category());
                    return tls_status::failed;
                default: ec = std::error_code(-r, mbedtls_category()); return tls_status::failed;
            }
        }

        std::unique_ptr<connection> c_;
    };
};

/// The Mbed TLS configuration type.
using mbedtls_context = mbedtls_backend::context;

SOCKFRAME_NAMESPACE_END
