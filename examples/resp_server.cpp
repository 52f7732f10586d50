// resp_server: a small Redis-compatible server on one thread.
//
//   resp_server [--host H] [--port P] [--busy-poll MICROSECONDS]
//
// Prints "READY <port>" once listening (port 0, the default, picks one), then serves PING, ECHO,
// SET (EX, PX, NX, XX), GET, DEL, EXISTS, INCR, DECR, INCRBY, MSET, MGET and CONFIG GET with
// Redis's replies, errors included, over RESP2 and inline commands. A framed_server on an event
// loop does the I/O: every command buffered on a connection is answered before the next read,
// and the answers of one wake-up leave in one write (pipelining). After a burst of work the loop
// polls without sleeping for 50 microseconds (--busy-poll; 0 turns it off): clients that keep
// pipelining then find it awake, and neither side pays for a wake-up. Usage errors exit 2.
#include <sockframe/resp.hpp>
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sf = sockframe;

namespace {

struct entry {
    std::string value;
    std::int64_t expires = 0;  // steady-clock milliseconds, 0: never
};

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

/// Redis's strict integer syntax: no sign but a leading '-', no leading zero, no spaces.
bool parse_integer(std::string_view s, std::int64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    if (s == "0") return out = 0, true;
    std::size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size() || s[i] < '1' || s[i] > '9') return false;
    std::uint64_t v = 0;
    const std::uint64_t limit = i ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        const auto d = static_cast<std::uint64_t>(s[i] - '0');
        if (v > (limit - d) / 10) return false;
        v = v * 10 + d;
    }
    out = s[0] == '-' ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
    return true;
}

bool equals_nocase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

class store {
public:
    /// Answers the command `args` (argc words) into `w`.
    void execute(const std::string_view* args, std::size_t argc, sf::resp_writer& w) {
        const std::string_view name = args[0];
        auto is = [&](std::string_view n) { return equals_nocase(name, n); };
        auto arity = [&](const char* lower, std::size_t n, bool at_least) {
            if (at_least ? argc >= n : argc == n) return true;
            w.error(std::string("ERR wrong number of arguments for '") + lower + "' command");
            return false;
        };
        if (is("ping")) {
            if (argc > 2) return (void)arity("ping", 0, false);
            if (argc == 2) return (void)w.bulk_string(args[1]);
            return (void)w.simple_string("PONG");
        }
        if (is("echo")) {
            if (arity("echo", 2, false)) w.bulk_string(args[1]);
        } else if (is("get")) {
            if (!arity("get", 2, false)) return;
            if (entry* e = find(args[1]))
                w.bulk_string(e->value);
            else
                w.null_bulk_string();
        } else if (is("set")) {
            if (arity("set", 3, true)) set(args, argc, w);
        } else if (is("del") || is("exists")) {
            const bool del = is("del");
            if (!arity(del ? "del" : "exists", 2, true)) return;
            std::int64_t n = 0;
            for (std::size_t i = 1; i < argc; ++i) {
                if (!find(args[i])) continue;
                ++n;
                if (del) data_.erase(key_);
            }
            w.integer(n);
        } else if (is("incr") || is("decr")) {
            if (arity(is("incr") ? "incr" : "decr", 2, false)) add(args[1], is("incr") ? 1 : -1, w);
        } else if (is("incrby")) {
            std::int64_t by = 0;
            if (!arity("incrby", 3, false)) return;
            if (!parse_integer(args[2], by))
                return (void)w.error("ERR value is not an integer or out of range");
            add(args[1], by, w);
        } else if (is("mset")) {
            if (argc < 3 || argc % 2 == 0) return (void)arity("mset", SIZE_MAX, false);
            for (std::size_t i = 1; i < argc; i += 2)
                data_[std::string(args[i])] = entry{std::string(args[i + 1]), 0};
            w.simple_string("OK");
        } else if (is("mget")) {
            if (!arity("mget", 2, true)) return;
            w.array(argc - 1);
            for (std::size_t i = 1; i < argc; ++i)
                if (entry* e = find(args[i]))
                    w.bulk_string(e->value);
                else
                    w.null_bulk_string();
        } else if (is("config") && argc == 3 && equals_nocase(args[1], "get")) {
            // what redis-benchmark asks before it starts: persistence is off here
            if (args[2] == "save") return (void)w.array(2).bulk_string("save").bulk_string("");
            if (args[2] == "appendonly") return (void)w.array(2).bulk_string("appendonly").bulk_string("no");
            w.array(0);
        } else {
            std::string text =
                "ERR unknown command '" + std::string(name.substr(0, 128)) + "', with args beginning with: ";
            const std::size_t start = text.size();
            for (std::size_t i = 1; i < argc && text.size() - start < 128; ++i)
                text += "'" + std::string(args[i].substr(0, 128 - (text.size() - start))) + "' ";
            for (auto& c : text)
                if (c == '\r' || c == '\n') c = ' ';
            w.error(text);
        }
    }

private:
    entry* find(std::string_view key) {
        key_.assign(key);  // reuses its capacity: no allocation per lookup
        auto it = data_.find(key_);
        if (it == data_.end()) return nullptr;
        if (it->second.expires != 0 && it->second.expires <= now_ms()) {
            data_.erase(it);
            return nullptr;
        }
        return &it->second;
    }

    void set(const std::string_view* args, std::size_t argc, sf::resp_writer& w) {
        bool nx = false, xx = false, seconds = false, millis = false;
        std::string_view expire;
        for (std::size_t i = 3; i < argc; ++i) {
            const std::string_view o = args[i];
            const bool has_next = i + 1 < argc;
            if (equals_nocase(o, "nx") && !xx)
                nx = true;
            else if (equals_nocase(o, "xx") && !nx)
                xx = true;
            else if (equals_nocase(o, "ex") && !seconds && !millis && has_next)
                seconds = true, expire = args[++i];
            else if (equals_nocase(o, "px") && !seconds && !millis && has_next)
                millis = true, expire = args[++i];
            else
                return (void)w.error("ERR syntax error");
        }
        std::int64_t ttl = 0;
        if (seconds || millis) {
            if (!parse_integer(expire, ttl))
                return (void)w.error("ERR value is not an integer or out of range");
            using namespace std::chrono;
            const std::int64_t wall =
                duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
            if (ttl <= 0 || (seconds && ttl > INT64_MAX / 1000))
                return (void)w.error("ERR invalid expire time in 'set' command");
            if (seconds) ttl *= 1000;
            if (ttl > INT64_MAX - wall) return (void)w.error("ERR invalid expire time in 'set' command");
        }
        entry* e = find(args[1]);
        if ((nx && e) || (xx && !e)) return (void)w.null_bulk_string();
        entry& slot = e ? *e : data_[key_];
        slot.value.assign(args[2]);
        slot.expires = ttl ? now_ms() + ttl : 0;
        w.simple_string("OK");
    }

    void add(std::string_view key, std::int64_t by, sf::resp_writer& w) {
        entry* e = find(key);
        std::int64_t v = 0;
        if (e && !parse_integer(e->value, v))
            return (void)w.error("ERR value is not an integer or out of range");
        if ((by < 0 && v < 0 && by < INT64_MIN - v) || (by > 0 && v > 0 && by > INT64_MAX - v))
            return (void)w.error("ERR increment or decrement would overflow");
        v += by;
        char text[24];
        (e ? *e : data_[key_]).value.assign(text, sf::resp_writer::format_signed(v, text));
        w.integer(v);
    }

    std::unordered_map<std::string, entry> data_;
    std::string key_;
};

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", port = "0", busy_poll = "50";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--host" || arg == "--port" || arg == "--busy-poll") && i + 1 < argc) {
            (arg == "--host" ? host : arg == "--port" ? port : busy_poll) = argv[++i];
        } else {
            std::cerr << "usage: resp_server [--host H] [--port P] [--busy-poll MICROSECONDS]\n";
            return 2;
        }
    }
    try {
        using listener = sf::basic_listener<sf::ip, sf::stream, sf::non_blocking>;
        sf::event_loop loop;
        loop.set_busy_poll(std::chrono::microseconds(std::stoul(busy_poll)));
        sf::framed_server<listener, sf::resp_codec> server(loop);
        store db;
        std::string reply;
        std::string_view args[1024];
        server.on_frame([&](auto& c, sf::const_buffer frame) {
            // the codec recorded where the arguments are while it checked the frame
            const sf::resp_value command(frame, c.io().codec());
            bool bulk_only = true;
            const std::size_t n = command.strings(args, 1024, &bulk_only);
            reply.clear();
            sf::resp_writer w(reply);
            if (!bulk_only || (command.type() != sf::resp_type::array && command.marker() != '\0'))
                w.error("ERR Protocol error: expected an array of bulk strings");
            else if (n == 0)
                return;  // an empty line or array: nothing to answer, as Redis
            else if (n > 1024)
                w.error("ERR too many arguments");
            else
                db.execute(args, n, w);
            c.send(reply);
        });
        server.listen(listener(sf::ip_address::parse(host, static_cast<std::uint16_t>(std::stoul(port)))));
        std::cout << "READY " << server.local_address().port() << std::endl;
        loop.run();
    } catch (const std::exception& e) {
        std::cerr << "resp_server: " << e.what() << "\n";
        return 1;
    }
}
