// SPDX-License-Identifier: MIT
#pragma once
// Test support for the TLS tests: a throw-away PKI made with the openssl command at run time, and
// child processes (openssl s_server / s_client, python3) started with pipes and stopped by PID.

#include "support/net.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace tls_test {

/// Runs a shell command quietly; true when it exits 0.
inline bool shell(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

/// Certificates for every test, in a temporary directory removed at exit: a CA; a server
/// certificate for localhost and 127.0.0.1 and its key; an expired one; a self-signed one; one for
/// another host; one from another CA; a client certificate from the CA.
class pki {
public:
    static const pki& get() {
        static const pki instance;
        return instance;
    }
    std::string file(const std::string& name) const { return dir_.path() + "/" + name; }
    std::string read(const std::string& name) const {
        std::ifstream in(file(name), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    pki() {
        const std::string d = dir_.path();
        auto key = [&](const std::string& name) {
            REQUIRE(shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + d + "/" +
                          name));
        };
        auto ca = [&](const std::string& name, const std::string& cn) {
            key(name + ".key");
            REQUIRE(shell("openssl req -x509 -new -key " + d + "/" + name + ".key -subj /CN=" + cn +
                          " -days 2 -out " + d + "/" + name +
                          ".pem -addext basicConstraints=critical,CA:TRUE -addext "
                          "keyUsage=critical,keyCertSign,cRLSign"));
        };
        // name.pem signed by `issuer` for `san`, valid `days` (negative: expired)
        auto leaf = [&](const std::string& name, const std::string& issuer, const std::string& cn,
                        const std::string& san, int days, const std::string& usage) {
            key(name + ".key");
            std::ofstream(d + "/" + name + ".ext")
                << "subjectAltName=" << san << "\nbasicConstraints=CA:FALSE\n"
                << "extendedKeyUsage=" << usage << "\n";
            REQUIRE(shell("openssl req -new -key " + d + "/" + name + ".key -subj /CN=" + cn + " -out " + d +
                          "/" + name + ".csr"));
            REQUIRE(shell("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/" + issuer +
                          ".pem -CAkey " + d + "/" + issuer + ".key -CAcreateserial -days " +
                          std::to_string(days) + " -out " + d + "/" + name + ".pem -extfile " + d + "/" +
                          name + ".ext"));
        };
        ca("ca", "sockframe-test-ca");
        ca("other_ca", "sockframe-other-ca");
        leaf("server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1", 2, "serverAuth");
        leaf("alt", "ca", "alt.test", "DNS:alt.test", 2, "serverAuth");
        leaf("expired", "ca", "localhost", "DNS:localhost,IP:127.0.0.1", -1, "serverAuth");
        leaf("wrong_host", "ca", "elsewhere.test", "DNS:elsewhere.test", 2, "serverAuth");
        leaf("wrong_ca", "other_ca", "localhost", "DNS:localhost,IP:127.0.0.1", 2, "serverAuth");
        leaf("client", "ca", "sockframe-client", "DNS:client.test", 2, "clientAuth");
        key("self_signed.key");
        REQUIRE(shell("openssl req -x509 -new -key " + d +
                      "/self_signed.key -subj /CN=localhost -days 2 -out " + d +
                      "/self_signed.pem -addext subjectAltName=DNS:localhost,IP:127.0.0.1"));
    }
    /// /tmp/sockframe-tls-<pid>-XXXXXX. A test killed (by a timeout) skips the destructor, so the
    /// next run first removes the directories of processes that no longer exist.
    struct directory {
        directory() {
            remove_orphans();
            std::string pattern = "/tmp/sockframe-tls-" + std::to_string(::getpid()) + "-XXXXXX";
            const char* made = ::mkdtemp(pattern.data());
            REQUIRE(made != nullptr);
            path_ = made;
        }
        static void remove_orphans() {
            DIR* tmp = ::opendir("/tmp");
            if (tmp == nullptr) return;
            const std::string prefix = "sockframe-tls-";
            while (const dirent* e = ::readdir(tmp)) {
                const std::string name = e->d_name;
                if (name.compare(0, prefix.size(), prefix) != 0) continue;
                const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
                if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
                    shell("rm -rf '/tmp/" + name + "'");
            }
            ::closedir(tmp);
        }
        ~directory() { shell("rm -rf '" + path_ + "'"); }
        const std::string& path() const { return path_; }
        std::string path_;
    };
    directory dir_;
};

/// A child process with its standard input and output on pipes; killed (SIGKILL) and reaped on
/// destruction unless it was waited for.
class child {
public:
    explicit child(const std::vector<std::string>& args) {
        int in[2], out[2];
        REQUIRE(::pipe(in) == 0);
        REQUIRE(::pipe(out) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_addclose(&actions, in[1]);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        const int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(in[0]);
        ::close(out[1]);
        to_ = in[1];
        from_ = out[0];
        ::fcntl(to_, F_SETFD, FD_CLOEXEC);
        ::fcntl(from_, F_SETFD, FD_CLOEXEC);
        REQUIRE(rc == 0);
    }
    child(const child&) = delete;
    child& operator=(const child&) = delete;
    ~child() {
        close_input();
        if (from_ >= 0) ::close(from_);
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    /// Writes `text` to the child's standard input.
    void write(const std::string& text) {
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(to_, text.data() + done, text.size() - done);
            REQUIRE(n > 0);
            done += static_cast<std::size_t>(n);
        }
    }
    /// Closes the child's standard input (it reads end-of-file).
    void close_input() {
        if (to_ >= 0) ::close(to_);
        to_ = -1;
    }
    /// The next line of output (without the newline), waiting at most `limit`; "" at end or timeout.
    std::string line(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
        const auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string l = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return l;
            }
            if (!fill(end)) {
                std::string rest;
                rest.swap(buffer_);
                return rest;
            }
        }
    }
    /// The output line starting with `prefix` (skipping others), or "".
    std::string line_starting(const std::string& prefix,
                              std::chrono::milliseconds limit = std::chrono::seconds(20)) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            std::string l = line(std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now()));
            if (l.rfind(prefix, 0) == 0) return l;
            if (l.empty() && eof_) return {};
        }
        return {};
    }
    /// Everything the child writes until it closes its output (at most `limit`).
    std::string rest(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (fill(end)) {
        }
        std::string r;
        r.swap(buffer_);
        return r;
    }
    /// Waits for the child to exit (after its output closed: rest()); its exit status or -1.
    int wait() {
        int status = 0;
        if (::waitpid(pid_, &status, 0) != pid_) return -1;
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    /// The process id.
    pid_t pid() const { return pid_; }

private:
    bool fill(std::chrono::steady_clock::time_point end) {
        if (eof_) return false;
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{from_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char chunk[4096];
        const ssize_t n = ::read(from_, chunk, sizeof chunk);
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
    bool eof_ = false;
    std::string buffer_;
};

}  // namespace tls_test
