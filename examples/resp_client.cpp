// resp_client: sends one command to a Redis server and prints the reply as `redis-cli --no-raw`
// prints it.
//
//   resp_client [--host H] --port P [--resp3] ARG...
//
// With --resp3 it first sends HELLO 3 (as `redis-cli -3` does) and prints RESP3's maps, sets,
// doubles, booleans, big numbers and verbatim strings the way redis-cli does. Push messages that
// arrive before the reply are not printed, and attributes are skipped (as redis-cli without a
// terminal). Exit 0 once the reply is printed (an error reply too), 1 on a connection or
// protocol error, 2 on a usage error.
#include <sockframe/resp.hpp>
#include <sockframe/sockframe.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace sf = sockframe;

namespace {

/// A quoted string with redis-cli's escapes (\n \r \t \a \b \\ \" and \xhh for the rest).
void quoted(std::string& out, std::string_view s) {
    out += '"';
    for (const char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\a': out += "\\a"; break;
            case '\b': out += "\\b"; break;
            default:
                if (c >= 0x20 && c <= 0x7e) {
                    out += c;
                } else {
                    char hex[5];
                    std::snprintf(hex, sizeof hex, "\\x%02x",
                                  static_cast<unsigned>(static_cast<unsigned char>(c)));
                    out += hex;
                }
        }
    }
    out += '"';
}

/// Appends `v` as redis-cli's terminal format does; `prefix` indents the lines after the first.
void format(std::string& out, const sf::resp_value& v, const std::string& prefix) {
    switch (v.type()) {
        case sf::resp_type::simple_string: out.append(v.str()) += '\n'; return;
        case sf::resp_type::simple_error:
        case sf::resp_type::bulk_error: out.append("(error) ").append(v.str()) += '\n'; return;
        case sf::resp_type::integer: out.append("(integer) ").append(v.str()) += '\n'; return;
        case sf::resp_type::double_number: out.append("(double) ").append(v.str()) += '\n'; return;
        case sf::resp_type::big_number: out.append("(big number) ").append(v.str()) += '\n'; return;
        case sf::resp_type::bulk_string: quoted(out, v.str()), out += '\n'; return;
        case sf::resp_type::verbatim_string: out.append(v.str()) += '\n'; return;
        case sf::resp_type::null: out += "(nil)\n"; return;
        case sf::resp_type::boolean: out += v.boolean() ? "(true)\n" : "(false)\n"; return;
        default: break;
    }
    const bool map = v.type() == sf::resp_type::map || v.type() == sf::resp_type::attribute;
    if (v.size() == 0) {
        out += map                               ? "(empty hash)\n"
               : v.type() == sf::resp_type::set  ? "(empty set)\n"
               : v.type() == sf::resp_type::push ? "(empty push)\n"
                                                 : "(empty array)\n";
        return;
    }
    const std::size_t entries = map ? v.size() / 2 : v.size();
    const std::size_t width = std::to_string(entries).size();
    const std::string inner = prefix + std::string(width + 2, ' ');
    const char separator = map ? '#' : v.type() == sf::resp_type::set ? '~' : ')';
    std::size_t index = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++index) {
        const std::string number = std::to_string(index + 1);
        if (index != 0) out += prefix;  // the caller wrote the first line's start
        out.append(width - number.size(), ' ').append(number) += separator;
        out += ' ';
        format(out, *it, inner);
        if (map) {
            out.pop_back();  // the key's newline
            out += " => ";
            format(out, *++it, inner);
        }
    }
}

[[noreturn]] void usage() {
    std::cerr << "usage: resp_client [--host H] --port P [--resp3] ARG...\n";
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", port;
    bool resp3 = false;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--host" || arg == "--port") && i + 1 < argc)
            (arg == "--host" ? host : port) = argv[++i];
        else if (arg == "--resp3")
            resp3 = true;
        else if (arg == "--") {
            ++i;
            break;
        } else
            break;
    }
    if (port.empty() || i >= argc) usage();
    const std::vector<std::string> args(argv + i, argv + argc);

    using stream = sf::basic_socket<sf::ip, sf::stream>;
    std::error_code ec;
    auto socket = stream::connect(host, port, std::chrono::seconds(10), ec);
    if (ec) {
        std::cerr << "Could not connect to " << host << ":" << port << ": " << ec.message() << "\n";
        return 1;
    }
    sf::resp_limits limits;
    limits.inline_commands = false;  // a server's replies are never inline
    limits.max_bulk = std::size_t{512} << 20;
    limits.max_frame = std::size_t{1} << 30;
    sf::framed<stream, sf::resp_codec> conn(std::move(socket), sf::resp_codec{limits});

    std::string request;
    sf::resp_writer w(request);
    if (resp3) w.command("HELLO", "3");
    w.command_range(args);
    conn.send(request, ec);
    // the replies: HELLO's first (with --resp3), then the command's; pushes are not replies
    for (int replies = resp3 ? 2 : 1; replies > 0 && !ec;) {
        auto frame = conn.receive(std::chrono::seconds(60), ec);
        if (!frame) {
            if (!ec) ec = make_error_code(sf::errc::end_of_stream);
            break;
        }
        const sf::resp_value reply(*frame);
        if (reply.type() == sf::resp_type::push) continue;
        if (--replies != 0) continue;
        std::string out;
        format(out, reply, "");
        std::fwrite(out.data(), 1, out.size(), stdout);
    }
    if (ec) {
        std::cerr << "Error: " << ec.message() << "\n";
        return 1;
    }
    return 0;
}
