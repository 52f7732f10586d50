#pragma once
// Runs a check in a private network namespace (Linux, as root): a child process unshares its
// network namespace, brings its loopback up with multicast on, and reports what failed through
// a pipe. Nothing in the host's network changes; the namespace dies with the child.

#include <string>

#if defined(__linux__)
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>

namespace test_support {

/// Collects failed expectations inside the child (doctest's state does not cross fork()).
class netns_report {
public:
    /// Records `what` unless `ok`.
    void expect(bool ok, const std::string& what) {
        if (!ok) failures_ += what + "\n";
    }
    /// The check cannot run here: the test is skipped with `why`.
    void skip(const std::string& why) { skipped_ = why; }
    const std::string& failures() const { return failures_; }
    const std::string& skipped() const { return skipped_; }

private:
    std::string failures_;
    std::string skipped_;
};

/// Why a namespace cannot be made here ("" if it can be tried: running as root).
inline std::string netns_unavailable() {
    if (::geteuid() != 0) return "not running as root (network namespaces need CAP_SYS_ADMIN)";
    return {};
}

/// Runs `check` in a child with its own network namespace and an up, multicast-capable
/// loopback. Returns "" on success, else what failed (or why the namespace could not be made:
/// then `skipped` is set). The child is bounded by `seconds` and killed after.
inline std::string run_in_netns(const std::function<void(netns_report&)>& check, bool& skipped,
                                int seconds = 60) {
    skipped = false;
    int fds[2];
    if (::pipe(fds) != 0) return "pipe failed";
    const pid_t child = ::fork();
    if (child < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return "fork failed";
    }
    if (child == 0) {
        ::close(fds[0]);
        std::string out;
        if (::unshare(CLONE_NEWNET) != 0) {
            out = std::string("SKIP unshare(CLONE_NEWNET): ") + std::strerror(errno);
        } else {
            const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
            ::ifreq request{};
            std::strcpy(request.ifr_name, "lo");
            bool up = s >= 0 && ::ioctl(s, SIOCGIFFLAGS, &request) == 0;
            request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_MULTICAST);
            up = up && ::ioctl(s, SIOCSIFFLAGS, &request) == 0;
            if (s >= 0) ::close(s);
            if (!up) {
                out = std::string("SKIP bringing lo up: ") + std::strerror(errno);
            } else {
                netns_report report;
                try {
                    check(report);
                } catch (const std::exception& e) {
                    report.expect(false, std::string("exception: ") + e.what());
                }
                if (!report.skipped().empty())
                    out = "SKIP " + report.skipped();
                else
                    out = report.failures().empty() ? "OK" : report.failures();
            }
        }
        std::size_t at = 0;
        while (at < out.size()) {
            const ssize_t n = ::write(fds[1], out.data() + at, out.size() - at);
            if (n <= 0) break;
            at += static_cast<std::size_t>(n);
        }
        ::close(fds[1]);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buffer[512];
    ::pollfd p{fds[0], POLLIN, 0};
    for (;;) {
        if (::poll(&p, 1, seconds * 1000) <= 0) {
            out += "(the child did not finish in time)";
            ::kill(child, SIGKILL);
            break;
        }
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (out.rfind("SKIP ", 0) == 0) {
        skipped = true;
        return out.substr(5);
    }
    if (out == "OK") return {};
    return out.empty() ? "the child reported nothing" : out;
}

}  // namespace test_support
#endif
