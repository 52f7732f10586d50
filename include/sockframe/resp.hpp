// SPDX-License-Identifier: MIT
#pragma once
/// RESP, the Redis serialization protocol (RESP2 and RESP3): a codec whose frame is one complete
/// value (nested aggregates and attributes included) or one inline command line, a zero-copy view
/// of a decoded value (resp_value), and a writer for commands and replies (resp_writer).
///
/// The frame's payload is the value's own bytes on the wire, so a decoded frame can be forwarded
/// unchanged, and encode() sends an already encoded value as it is (resp_writer builds them).

#include <sockframe/codec.hpp>
#include <sockframe/config.hpp>
#include <sockframe/error.hpp>
#include <sockframe/detail/convert.hpp>
#include <sockframe/detail/endian.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

SOCKFRAME_NAMESPACE_BEGIN

/// The type of a RESP value (its first byte on the wire, or an inline command).
enum class resp_type : std::uint8_t {
    simple_string,    ///< `+OK`
    simple_error,     ///< `-ERR message`
    integer,          ///< `:42` (signed 64 bits)
    bulk_string,      ///< `$5 hello`
    array,            ///< `*N` then N values
    null,             ///< RESP3 `_`, and RESP2's `$-1` and `*-1` (see resp_value::marker)
    boolean,          ///< RESP3 `#t` / `#f`
    double_number,    ///< RESP3 `,3.14` (also inf, -inf, nan)
    big_number,       ///< RESP3 `(` then decimal digits of any length
    bulk_error,       ///< RESP3 `!N` error with a length
    verbatim_string,  ///< RESP3 `=N fmt:text` (a three-letter format, ':', the text)
    map,              ///< RESP3 `%N` then N key-value pairs
    set,              ///< RESP3 `~N` then N values
    attribute,        ///< RESP3 `|N` then N pairs; annotates the value that follows
    push,             ///< RESP3 `>N` then N values (out-of-band data)
    inline_command,   ///< a line of space-separated words (what redis-server accepts from telnet)
};

/// The bounds of resp_codec. Every one is checked before anything is buffered for it.
struct resp_limits {
    /// Most bytes in one bulk string, bulk error or verbatim string, and in the line of a simple
    /// string, simple error, double or big number. Default 16 MiB (Redis's own, proto-max-bulk-len,
    /// is 512 MiB).
    std::size_t max_bulk = SOCKFRAME_DEFAULT_MAX_FRAME;
    /// Most elements of one aggregate (a map or attribute of N pairs has 2N). Default 1 Mi.
    std::size_t max_elements = std::size_t{1} << 20;
    /// Most nested aggregates (attributes count), at most resp_codec::depth_capacity. Default 32.
    std::size_t max_depth = 32;
    /// Most bytes of one whole frame (the value with everything nested in it). Default 64 MiB.
    std::size_t max_frame = std::size_t{64} << 20;
    /// Most bytes of one inline command line, its line ending included. Default 64 KiB (as Redis).
    std::size_t max_inline = std::size_t{64} << 10;
    /// Accept inline commands: a frame whose first byte is not a RESP type byte is a line of
    /// words. Off, such a byte is malformed_frame (a client reading replies may want that).
    bool inline_commands = true;
};

namespace detail {

/// The type of a RESP type byte, or inline_command for a byte that is none.
inline resp_type resp_type_of(char marker) noexcept {
    switch (marker) {
        case '+': return resp_type::simple_string;
        case '-': return resp_type::simple_error;
        case ':': return resp_type::integer;
        case '$': return resp_type::bulk_string;
        case '*': return resp_type::array;
        case '_': return resp_type::null;
        case '#': return resp_type::boolean;
        case ',': return resp_type::double_number;
        case '(': return resp_type::big_number;
        case '!': return resp_type::bulk_error;
        case '=': return resp_type::verbatim_string;
        case '%': return resp_type::map;
        case '~': return resp_type::set;
        case '|': return resp_type::attribute;
        case '>': return resp_type::push;
        default: return resp_type::inline_command;
    }
}

/// Whether a value of this type is followed by a length and that many bytes.
inline bool resp_is_bulk(char marker) noexcept { return marker == '$' || marker == '!' || marker == '='; }
/// Whether a value of this type is followed by a count and that many values (pairs for % and |).
inline bool resp_is_aggregate(char marker) noexcept {
    return marker == '*' || marker == '%' || marker == '~' || marker == '|' || marker == '>';
}

/// The decimal number at `p` up to its "\r\n" (trusted: a decoded frame); sets `next` past it.
inline std::int64_t resp_trusted_number(const char* p, const char*& next) noexcept {
    bool negative = false;
    if (*p == '-' || *p == '+') negative = *p++ == '-';
    std::uint64_t value = 0;
    while (*p != '\r') value = value * 10 + static_cast<std::uint64_t>(*p++ - '0');
    next = p + 2;
    return negative ? static_cast<std::int64_t>(0 - value) : static_cast<std::int64_t>(value);
}

/// One past the "\n" that ends the line at `p` (trusted: inside a decoded frame).
inline const char* resp_line_end(const char* p) noexcept {
    while (*p != '\n') ++p;
    return p + 1;
}

/// One past the value at `p` and everything nested in it (trusted: inside a decoded frame, so
/// only lengths and counts are read, nothing is checked again). An attribute before a value is
/// skipped with it.
inline const char* resp_skip(const char* p) noexcept {
    std::uint64_t slots = 1;
    do {
        const char marker = *p;
        const char* next = nullptr;
        switch (marker) {
            case '$':
            case '!':
            case '=': {
                const std::int64_t n = resp_trusted_number(p + 1, next);
                p = n < 0 ? next : next + n + 2;
                --slots;
                break;
            }
            case '*':
            case '~':
            case '>':
            case '%':
            case '|': {
                const std::int64_t n = resp_trusted_number(p + 1, next);
                p = next;
                if (marker != '|') --slots;  // an attribute leaves its value's slot open
                if (n > 0) slots += static_cast<std::uint64_t>(n) << (marker == '%' || marker == '|' ? 1 : 0);
                break;
            }
            default:
                p = resp_line_end(p);
                --slots;
                break;
        }
    } while (slots != 0);
    return p;
}

/// One past the attribute at `p` (its pairs included, the value it annotates not).
inline const char* resp_skip_attribute(const char* p) noexcept {
    const char* next = nullptr;
    const std::int64_t n = resp_trusted_number(p + 1, next);
    p = next;
    for (std::int64_t i = 0; i < 2 * n; ++i) p = resp_skip(p);
    return p;
}

inline bool resp_is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

}  // namespace detail

class resp_codec;
class resp_value;

/// Where the top-level children of the last aggregate frame a resp_codec decoded lie, recorded
/// while the codec checked that frame, so that resp_value reads them without walking the frame
/// again. Bounded: the first `capacity` children are recorded (their text's start and their end,
/// as offsets in the frame); a view walks on from the last recorded one for the others.
///
/// It belongs to the codec (resp_codec::index()) and describes one frame at a time: a
/// resp_value built with it checks, each time it reads it, that it still describes the value's
/// frame, and walks the frame when it does not (another frame was decoded since, or the codec
/// was reset). Nothing is allocated.
class resp_index {
public:
    /// How many top-level children are recorded at most.
    static constexpr std::size_t capacity = 16;

    /// Whether the index describes the aggregate whose type byte is at `head` and which has
    /// `children` children.
    bool describes(const char* head, std::size_t children) const noexcept {
        return frame_ != nullptr && frame_ + head_ == head && children_ == children;
    }
    /// The number of children recorded (at most capacity) for a value it describes.
    std::size_t recorded() const noexcept { return children_ < capacity ? children_ : capacity; }
    /// Where child `i` (below recorded()) begins its text: a bulk string's bytes, a line's text
    /// after its type byte, an aggregate's first child.
    const char* body(std::size_t i) const noexcept { return frame_ + body_[i]; }
    /// One past child `i` (below recorded()), everything nested in it included.
    const char* end(std::size_t i) const noexcept { return frame_ + end_[i]; }
    /// Whether every child (recorded or not) is a bulk string, not null, without an attribute:
    /// a command's arguments.
    bool all_bulk() const noexcept { return bulk_; }

private:
    friend class resp_codec;
    friend class resp_value;

    const char* frame_ = nullptr;  // the frame's first byte; null while a frame is being recorded
    std::uint64_t children_ = 0;   // the top-level aggregate's child count
    std::uint32_t head_ = 0;       // the offset of its type byte (after attributes)
    std::uint32_t first_ = 0;      // the offset of its first child (past its header)
    bool bulk_ = false;            // every child is a bulk string (not null), without attribute
    std::uint32_t body_[capacity] = {};
    std::uint32_t end_[capacity] = {};
};

/// A RESP value inside a decoded frame: its type, its bytes and its children, all views into the
/// frame (nothing is copied or allocated). Valid as long as the frame's bytes.
///
/// Construct it from a frame that resp_codec decoded (the constructor trusts those bytes), or
/// check arbitrary bytes with resp_value::parse. Children are iterated in wire order; a map's (and
/// an attribute's) children are its keys and values alternating. An inline command's children are
/// its words, as bulk strings.
class resp_value {
public:
    class iterator;

    /// An empty value (type null, no bytes); what attributes() returns for a value without any.
    resp_value() noexcept = default;
    /// The value that `frame` (one frame decoded by resp_codec, attributes included) holds.
    explicit resp_value(const_buffer frame) noexcept { init(frame); }
    /// The value that `frame` holds, when `codec` has just decoded it: the top-level children's
    /// places that the codec recorded while checking the frame (resp_index) are used instead of
    /// walking the frame again. Valid as long as the frame's bytes; once the codec decodes another
    /// frame, the value walks its frame as the one-argument constructor's does.
    resp_value(const_buffer frame, const resp_codec& codec) noexcept;

    /// Checks that `bytes` hold exactly one value within `limits`; on error returns an empty
    /// value and sets `ec` (and `error_size`, where given, to the offending size or position).
    static resp_value parse(const_buffer bytes, std::error_code& ec, const resp_limits& limits = {},
                            std::uint64_t* error_size = nullptr) noexcept;

    /// The value's type.
    resp_type type() const noexcept { return type_; }
    /// The type byte on the wire ('$', '*', '_', ...), '\0' for an inline command or an empty
    /// value: tells RESP2's null bulk string ('$') and null array ('*') from RESP3's null ('_').
    char marker() const noexcept { return type_ == resp_type::inline_command || !head_ ? '\0' : *head_; }
    /// Whether the value is a null of any kind (RESP3 `_`, RESP2 `$-1` or `*-1`), or empty.
    bool is_null() const noexcept { return type_ == resp_type::null; }
    /// Whether the value is an error (simple or bulk).
    bool is_error() const noexcept {
        return type_ == resp_type::simple_error || type_ == resp_type::bulk_error;
    }
    /// Whether the value has children (array, map, set, attribute, push, inline command).
    bool is_aggregate() const noexcept {
        return type_ == resp_type::array || type_ == resp_type::map || type_ == resp_type::set ||
               type_ == resp_type::attribute || type_ == resp_type::push ||
               type_ == resp_type::inline_command;
    }

    /// The text of a scalar: a string's or error's bytes, a number's digits as sent, "t" or "f"
    /// for a boolean, a verbatim string's text without its format; empty for the others.
    std::string_view str() const noexcept {
        return is_aggregate() ? std::string_view{} : std::string_view{body_, length_};
    }
    /// The same bytes as str(), as a buffer.
    const_buffer bytes() const noexcept {
        return is_aggregate() ? const_buffer{} : const_buffer{body_, length_};
    }
    /// A verbatim string's three-letter format ("txt", "mkd"); empty for other types.
    std::string_view format() const noexcept {
        return type_ == resp_type::verbatim_string ? std::string_view{body_ - 4, 3} : std::string_view{};
    }
    /// An integer's value; 0 for other types (a big number's digits are in str()).
    std::int64_t integer() const noexcept {
        if (type_ != resp_type::integer) return 0;
        const char* next = nullptr;
        return detail::resp_trusted_number(body_, next);
    }
    /// A boolean's value; false for other types.
    bool boolean() const noexcept { return type_ == resp_type::boolean && *body_ == 't'; }

    /// The number of children (keys and values both for a map or attribute; words of an inline
    /// command, counted by scanning the line).
    std::size_t size() const noexcept;
    /// Whether the value has no children.
    bool empty() const noexcept;
    /// The first child.
    iterator begin() const noexcept;
    /// Past the last child.
    iterator end() const noexcept;
    /// The `index`-th child (walks the children before it); an empty value when out of range.
    resp_value operator[](std::size_t index) const noexcept;

    /// Stores the children's str() in `out` (at most `capacity` of them, in order) and returns
    /// the number of children: a command's arguments in one pass, without building a resp_value
    /// per child when they are bulk strings (the common case).
    /// Where `only_bulk` is given, it tells whether every child is a bulk string (not null), as
    /// a command's arguments must be.
    std::size_t strings(std::string_view* out, std::size_t capacity,
                        bool* only_bulk = nullptr) const noexcept {
        if (!is_aggregate() || length_ == 0) {  // no children (a scalar, an empty line)
            if (only_bulk) *only_bulk = true;
            return 0;
        }
        const resp_index* recorded = index();
        if (!recorded || length_ > resp_index::capacity) return children_strings(out, capacity, only_bulk);
        // every child recorded by the codec: its text's place is known
        const std::size_t stop = length_ < capacity ? length_ : capacity;
        if (recorded->all_bulk()) {  // a command: no byte of the frame is read
            for (std::size_t i = 0; i < stop; ++i) {
                const char* body = recorded->body(i);
                out[i] = std::string_view(body, static_cast<std::size_t>(recorded->end(i) - 2 - body));
            }
            if (only_bulk) *only_bulk = true;
            return length_;
        }
        const char* p = body_;  // each child's type byte: where the previous one ends
        for (std::size_t i = 0; i < stop; ++i) {
            if (*p == '|') return children_strings(out, capacity, only_bulk);  // an attribute: walked
            out[i] = recorded_text(p, recorded->body(i), recorded->end(i));
            p = recorded->end(i);
        }
        if (only_bulk) *only_bulk = false;  // not all_bulk(): some child is not a bulk string
        return length_;
    }

    /// The attribute map sent before this value (the first, where several were), or an empty
    /// value when there was none.
    resp_value attributes() const noexcept {
        if (!attributes_) return {};
        return at_value(attributes_);
    }
    /// The value's whole encoding on the wire (its attributes excluded).
    const_buffer encoded() const noexcept {
        return head_ ? const_buffer{head_, static_cast<std::size_t>(end_ - head_)} : const_buffer{};
    }

private:
    friend class iterator;

    /// Writes into *this the value `frame` holds (the one-argument constructor).
    void init(const_buffer frame) noexcept {
        if (frame.empty()) return;
        const char* p = reinterpret_cast<const char*>(frame.data());
        // A frame is one whole value: a line's text ends 2 bytes before the frame does, and a
        // bulk string's where its header ends plus its length (nothing needs to be scanned).
        const char marker = *p;
        if (marker == '$' && p[1] != '-') {
            const char* q = p + 1;
            while (*q != '\r') ++q;
            return set_scalar(resp_type::bulk_string, p, q + 2, frame.size());
        }
        if (marker == '+' || marker == ':') {
            return set_scalar(marker == '+' ? resp_type::simple_string : resp_type::integer, p, p + 1,
                              frame.size());
        }
        init_other(frame);
    }
    /// init() for the frames other than a bulk string, a simple string or an integer.
    void init_other(const_buffer frame) noexcept {
        const char* p = reinterpret_cast<const char*>(frame.data());
        const char marker = *p;
        switch (marker) {
            case '$': {  // "$-1" is RESP2's null bulk string ("$-0" an empty one)
                const char* next = nullptr;
                if (detail::resp_trusted_number(p + 1, next) >= 0) break;  // load() below
                set_scalar(resp_type::null, p, next, frame.size());
                length_ = 0;
                return;
            }
            case '-': return set_scalar(resp_type::simple_error, p, p + 1, frame.size());
            case ',': return set_scalar(resp_type::double_number, p, p + 1, frame.size());
            case '(': return set_scalar(resp_type::big_number, p, p + 1, frame.size());
            case '#': return set_scalar(resp_type::boolean, p, p + 1, frame.size());
            case '_': return set_scalar(resp_type::null, p, p + 1, frame.size());
            default: break;
        }
        const resp_type type = detail::resp_type_of(marker);
        if (type == resp_type::inline_command) {
            type_ = resp_type::inline_command;
            head_ = body_ = p;
            end_ = p + frame.size();
            std::size_t n = frame.size() - 1;  // drop "\n", then a "\r" before it
            if (n > 0 && p[n - 1] == '\r') --n;
            length_ = n;
            return;
        }
        load(*this, p, p + frame.size());
    }
    /// A scalar frame of `size` bytes at `head` whose text begins at `body` and ends 2 bytes
    /// before the frame does.
    void set_scalar(resp_type type, const char* head, const char* body, std::size_t size) noexcept {
        type_ = type;
        head_ = head;
        body_ = body;
        end_ = head + size;
        length_ = static_cast<std::size_t>(end_ - 2 - body);
    }
    /// Writes into `v` the value at `p` (an attribute before it is recorded, not returned); `end`,
    /// where known, is where it ends. Field by field: a value built elsewhere and copied whole
    /// would be read back as wide loads from narrower stores (a store-forwarding stall per value).
    static void load(resp_value& v, const char* p, const char* end) noexcept {
        const char* attributes = nullptr;
        while (*p == '|') {  // several in a row: the first is kept
            if (!attributes) attributes = p;
            p = detail::resp_skip_attribute(p);
        }
        load_value(v, p, end);
        v.attributes_ = attributes;
    }
    /// The value whose own type byte is at `p` (an attribute itself, when p points at one);
    /// `end`, where known, is where it ends.
    static resp_value at_value(const char* p, const char* end = nullptr) noexcept {
        resp_value v;
        load_value(v, p, end);
        return v;
    }
    /// The str() of a child whose type byte is at `p`, whose text begins at `body` (as the
    /// codec recorded it) and which ends at `end`.
    static std::string_view recorded_text(const char* p, const char* body, const char* end) noexcept {
        const char marker = *p;
        const auto line = static_cast<std::size_t>(end - 2 - body);
        if (p[1] == '-' && (detail::resp_is_bulk(marker) || detail::resp_is_aggregate(marker))) {
            const char* next = nullptr;  // "-1" is a null ("-0" is not)
            if (detail::resp_trusted_number(p + 1, next) < 0) return std::string_view(body, 0);
        }
        if (detail::resp_is_aggregate(marker)) return {};
        if (marker == '=') return std::string_view(body + 4, line - 4);
        return std::string_view(body, line);
    }
    /// strings() for a value that has children.
    std::size_t children_strings(std::string_view* out, std::size_t capacity, bool* only_bulk) const noexcept;
    /// at_value(), written into `v`.
    static void load_value(resp_value& v, const char* p, const char* end) noexcept;

    resp_type type_ = resp_type::null;
    const char* head_ = nullptr;         // the type byte
    const char* body_ = nullptr;         // a scalar's text, an aggregate's first child
    std::size_t length_ = 0;             // a scalar's text length, an aggregate's child count
    const char* end_ = nullptr;          // past the whole value (computed on demand for aggregates)
    const char* attributes_ = nullptr;   // the attribute before the value, if any
    const resp_index* index_ = nullptr;  // the codec's record of the children, if any

    /// The index, where it (still) describes this value's children; else null.
    const resp_index* index() const noexcept {
        return index_ && index_->describes(head_, length_) ? index_ : nullptr;
    }
};

/// A forward iterator over a value's children (each a resp_value), allocation-free.
class resp_value::iterator {
public:
    /// Iterator category.
    using iterator_category = std::forward_iterator_tag;
    /// Element type.
    using value_type = resp_value;
    /// Distance type.
    using difference_type = std::ptrdiff_t;
    /// Pointer type (values are made on dereference).
    using pointer = const resp_value*;
    /// Reference type (values are made on dereference).
    using reference = resp_value;

    iterator() noexcept = default;
    /// The child here.
    resp_value operator*() const noexcept { return current_; }
    /// The child here, by pointer.
    const resp_value* operator->() const noexcept { return &current_; }
    /// Moves to the next child.
    iterator& operator++() noexcept {
        if (words_) {
            pos_ += current_.length_;
            skip_spaces();
            load_word();
        } else {
            pos_ = current_.end_;
            if (--left_ != 0) resp_value::load(current_, pos_, end_of(++child_));
        }
        return *this;
    }
    /// Moves to the next child, returning the previous position.
    iterator operator++(int) noexcept {
        iterator old = *this;
        ++*this;
        return old;
    }
    /// Same position.
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
        return a.words_ ? a.pos_ == b.pos_ : a.left_ == b.left_;
    }
    /// Different positions.
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

private:
    friend class resp_value;
    iterator(const char* pos, std::size_t left, const resp_index* index = nullptr) noexcept
        : pos_(pos), left_(left), index_(index) {
        if (left_ != 0) resp_value::load(current_, pos_, end_of(0));
    }
    /// Where the codec recorded child `i`'s end, or null (the child is walked to find it).
    const char* end_of(std::size_t i) const noexcept {
        return index_ && i < index_->recorded() ? index_->end(i) : nullptr;
    }
    iterator(const char* pos, const char* line_end) noexcept : pos_(pos), line_end_(line_end), words_(true) {
        skip_spaces();
        load_word();
    }
    void load_word() noexcept {
        const char* p = pos_;
        while (p != line_end_ && !detail::resp_is_space(*p)) ++p;
        current_.type_ = resp_type::bulk_string;
        current_.head_ = current_.body_ = pos_;
        current_.length_ = static_cast<std::size_t>(p - pos_);
        current_.end_ = p;
    }
    void skip_spaces() noexcept {
        while (pos_ != line_end_ && detail::resp_is_space(*pos_)) ++pos_;
    }

    resp_value current_;
    const char* pos_ = nullptr;
    std::size_t left_ = 0;
    const char* line_end_ = nullptr;
    const resp_index* index_ = nullptr;  // the parent's index, if it has one
    std::size_t child_ = 0;              // the current child's position (with index_)
    bool words_ = false;
};

inline resp_value::iterator resp_value::begin() const noexcept {
    if (type_ == resp_type::inline_command) return iterator(body_, body_ + length_);
    return iterator(body_, is_aggregate() ? length_ : 0, index());
}
inline resp_value::iterator resp_value::end() const noexcept {
    if (type_ == resp_type::inline_command) return iterator(body_ + length_, body_ + length_);
    return iterator(nullptr, std::size_t{0});
}
inline std::size_t resp_value::size() const noexcept {
    if (type_ != resp_type::inline_command) return is_aggregate() ? length_ : 0;
    std::size_t n = 0;
    for (auto it = begin(), e = end(); it != e; ++it) ++n;
    return n;
}
inline bool resp_value::empty() const noexcept { return begin() == end(); }
inline resp_value resp_value::operator[](std::size_t index) const noexcept {
    if (const resp_index* recorded = this->index()) {
        if (index >= length_) return {};
        const std::size_t known = recorded->recorded();
        // the slot of child i starts where child i - 1 ends (an attribute before it included)
        if (index < known) {
            resp_value v;
            load(v, index == 0 ? body_ : recorded->end(index - 1), recorded->end(index));
            return v;
        }
        const char* p = recorded->end(known - 1);
        for (std::size_t i = known; i < index; ++i) p = detail::resp_skip(p);
        resp_value v;
        load(v, p, nullptr);
        return v;
    }
    std::size_t i = 0;
    for (auto it = begin(), e = end(); it != e; ++it, ++i)
        if (i == index) return *it;
    return {};
}

inline std::size_t resp_value::children_strings(std::string_view* out, std::size_t capacity,
                                                bool* only_bulk) const noexcept {
    bool bulk = true;
    if (type_ == resp_type::inline_command) {
        std::size_t n = 0;
        for (auto it = begin(), e = end(); it != e; ++it, ++n)
            if (n < capacity) out[n] = it->str();
        if (only_bulk) *only_bulk = true;
        return n;
    }
    const std::size_t count = is_aggregate() ? length_ : 0;
    const char* p = body_;
    std::size_t i = 0;
    if (const resp_index* index = this->index()) {
        // Where the codec recorded the children: each child's text and end are known, only its
        // type byte (at p, where the previous child ended) is read.
        const std::size_t known = index->recorded();
        if (index->all_bulk()) {  // a command: no type byte to read
            const std::size_t stop = known < capacity ? known : capacity;
            for (; i < stop; ++i) {
                const char* body = index->body(i);
                out[i] = std::string_view(body, static_cast<std::size_t>(index->end(i) - 2 - body));
            }
            i = known;
            p = index->end(known - 1);
        }
        for (; i < known; ++i) {
            const char marker = *p;
            if (marker == '|') break;  // an attribute before the child: the walk below
            const char* body = index->body(i);
            const char* end = index->end(i);
            std::string_view text;
            if (marker == '$' && p[1] != '-') {
                text = std::string_view(body, static_cast<std::size_t>(end - 2 - body));
            } else {
                // a length or count of "-1" is a null ("-0" is not, nor an empty line's '-')
                const char* next = nullptr;
                const bool null = p[1] == '-' &&
                                  (detail::resp_is_bulk(marker) || detail::resp_is_aggregate(marker)) &&
                                  detail::resp_trusted_number(p + 1, next) < 0;
                if (!null && marker == '$') {
                    text = std::string_view(body, static_cast<std::size_t>(end - 2 - body));
                    p = end;
                    if (i < capacity) out[i] = text;
                    continue;
                }
                bulk = false;
                if (null)
                    text = std::string_view(body, 0);  // as str() reports it
                else if (marker == '=')
                    text = std::string_view(body + 4, static_cast<std::size_t>(end - 6 - body));
                else if (!detail::resp_is_aggregate(marker))
                    text = std::string_view(body, static_cast<std::size_t>(end - 2 - body));
            }
            if (i < capacity) out[i] = text;
            p = end;
        }
    }
    // One pass over the children, reading lengths only: the frame was checked by the codec.
    for (; i < count && *p == '$' && p[1] != '-'; ++i) {  // the common case first: bulk strings
        std::size_t n = 0;
        const char* q = p + 1;
        while (*q != '\r') n = n * 10 + static_cast<std::size_t>(*q++ - '0');
        if (i < capacity) out[i] = std::string_view(q + 2, n);
        p = q + 4 + n;
    }
    for (; i < count; ++i) {
        while (*p == '|') p = detail::resp_skip_attribute(p);  // annotates the child after it
        std::string_view text;
        const char marker = *p;
        switch (marker) {
            case '$':
            case '!':
            case '=': {
                const char* next = nullptr;
                const std::int64_t n = detail::resp_trusted_number(p + 1, next);
                if (n < 0) {
                    text = std::string_view(next, 0);  // a null, as str() reports it
                    p = next;
                    bulk = false;
                    break;
                }
                const auto size = static_cast<std::size_t>(n);
                text = marker == '=' ? std::string_view(next + 4, size - 4) : std::string_view(next, size);
                p = next + size + 2;
                if (marker != '$') bulk = false;
                break;
            }
            case '*':
            case '%':
            case '~':
            case '>': {
                const char* next = nullptr;
                if (detail::resp_trusted_number(p + 1, next) < 0) {
                    text = std::string_view(next, 0);  // a null, as str() reports it
                    p = next;
                } else {
                    p = detail::resp_skip(p);
                }
                bulk = false;
                break;
            }
            default: {
                const char* nl = detail::resp_line_end(p) - 1;
                text = std::string_view(p + 1, static_cast<std::size_t>(nl - 2 - p));
                p = nl + 1;
                bulk = false;
                break;
            }
        }
        if (i < capacity) out[i] = text;
    }
    if (only_bulk) *only_bulk = bulk;
    return count;
}

inline void resp_value::load_value(resp_value& v, const char* p, const char* end) noexcept {
    v.type_ = resp_type::null;
    v.body_ = nullptr;
    v.length_ = 0;
    v.end_ = nullptr;
    v.attributes_ = nullptr;
    v.index_ = nullptr;
    v.head_ = p;
    const char marker = *p;
    if (marker == '$' && p[1] != '-') {  // the common case first: a bulk string
        std::size_t n = 0;
        const char* q = p + 1;
        while (*q != '\r') n = n * 10 + static_cast<std::size_t>(*q++ - '0');
        v.type_ = resp_type::bulk_string;
        v.body_ = q + 2;
        v.length_ = n;
        v.end_ = q + 4 + n;
        return;
    }
    v.type_ = detail::resp_type_of(marker);
    const char* next = nullptr;
    if (detail::resp_is_bulk(marker)) {
        const std::int64_t n = detail::resp_trusted_number(p + 1, next);
        if (n < 0) {
            v.type_ = resp_type::null;
            v.body_ = next;
            v.end_ = next;
            return;
        }
        v.body_ = next;
        v.length_ = static_cast<std::size_t>(n);
        v.end_ = next + n + 2;
        if (marker == '=') {
            v.body_ += 4;
            v.length_ -= 4;
        }
    } else if (detail::resp_is_aggregate(marker)) {
        const std::int64_t n = detail::resp_trusted_number(p + 1, next);
        v.body_ = next;
        if (n < 0) {
            v.type_ = resp_type::null;
            v.end_ = next;
            return;
        }
        v.length_ = static_cast<std::size_t>(n) * ((marker == '%' || marker == '|') ? 2 : 1);
        v.end_ = end ? end : marker == '|' ? detail::resp_skip_attribute(p) : detail::resp_skip(p);
    } else {
        const char* nl = detail::resp_line_end(p) - 1;
        v.body_ = p + 1;
        v.length_ = static_cast<std::size_t>(nl - 1 - v.body_);
        v.end_ = nl + 1;
    }
}

/// The RESP codec: decodes one whole value per frame (every nested aggregate and attribute
/// included), or one inline command line; encodes an already encoded value as it is.
///
/// Decoding keeps its place across need_more results (the depth, the elements left at each
/// level, how far a line was scanned), so bytes arriving one at a time are scanned once.
///
/// Strict: line endings are "\r\n" (an inline command may end in a bare "\n"), lengths and counts
/// are decimal digits, an integer fits 64 bits, a boolean is t or f, a verbatim string starts with
/// three bytes and ':'. RESP3's streamed strings and aggregates (`$?`, `*?`) are not accepted.
///
/// Errors, all with consumed 0 (the stream cannot be resynchronised; the reader stops):
///   - malformed_frame: a byte that cannot be there (size = its position in the frame);
///   - negative_length: a length or count below -1, or -1 where no null is allowed (size = its
///     magnitude);
///   - frame_too_large: a bulk above max_bulk or a line longer than max_bulk (size = the length,
///     or max_bulk for a line), an aggregate above max_elements (size = its element count),
///     nesting deeper than max_depth (size = the depth), a frame above max_frame (size = its
///     size when a length announced it, else max_frame), an inline line above max_inline (size =
///     max_inline).
class resp_codec {
public:
    /// The deepest nesting a codec can track (the limit on resp_limits::max_depth).
    static constexpr std::size_t depth_capacity = 64;

    /// A codec with `limits` (invalid_argument when max_depth exceeds depth_capacity or a
    /// limit is 0).
    explicit resp_codec(const resp_limits& limits = {})
        : limits_(limits), indexing_(limits.max_frame <= UINT32_MAX) {
        if (limits.max_depth > depth_capacity || limits.max_frame == 0 || limits.max_inline == 0)
            detail::throw_error(make_error_code(errc::invalid_argument), "resp_codec: limit out of range");
    }

    /// Where the top-level children of the last aggregate frame decoded lie (see resp_index and
    /// resp_value's two-argument constructor); recorded by decode() and decode_frame() as they
    /// check the frame, for frames of at most 4 GiB - 1 bytes (a larger max_frame records nothing).
    const resp_index& index() const noexcept { return index_; }

    /// The limits in force.
    const resp_limits& limits() const noexcept { return limits_; }
    /// Most bytes one frame delivers (the whole value: the payload is the frame).
    std::size_t max_frame() const noexcept { return limits_.max_frame; }
    /// Most input bytes one frame occupies.
    std::size_t max_frame_bytes() const noexcept { return limits_.max_frame; }

    /// decode()'s short cut (codec.hpp) for the common frames: an array of bulk strings (a
    /// command), a bulk string, RESP2's null bulk string, a simple string, error or integer,
    /// whole at the front of `input`, when no frame is partly scanned. Anything else, or anything
    /// decode() would reject: 0 (decode() decides).
    std::size_t decode_frame(const_buffer input, const_buffer& payload) const noexcept {
        if (pos_ != 0 || depth_ != 0 || input.size() < 4) return 0;
        const char* const p = reinterpret_cast<const char*>(input.data());
        const std::size_t n = input.size() < limits_.max_frame ? input.size() : limits_.max_frame;
        const char first = p[0];
        if (first == '+' || first == '-' || first == ':') return short_line(p, n, payload);
        if (first == '$' && p[1] == '-') {  // RESP2's null bulk string, exactly "$-1"
            if (n < 5 || p[2] != '1' || p[3] != '\r' || p[4] != '\n') return 0;
            index_.frame_ = nullptr;  // a frame without children
            payload = const_buffer{p, 5};
            return 5;
        }
        std::size_t pos = 0;
        std::uint64_t count = 1;
        // an array's children are recorded as they are checked (a bulk string has none)
        const bool record = p[0] == '*' && indexing_;
        if (p[0] == '*') {
            if (limits_.max_depth == 0) return 0;
            if (!short_number(p, n, pos, count) || count == 0 || count > limits_.max_elements) return 0;
            if (record) {
                index_.frame_ = nullptr;
                index_.children_ = count;
                index_.head_ = 0;
                index_.first_ = static_cast<std::uint32_t>(pos);
                index_.bulk_ = true;
            }
        }
        for (std::uint64_t i = 0; i < count; ++i) {
            if (pos >= n || p[pos] != '$') return 0;
            std::uint64_t length = 0;
            if (!short_number(p, n, pos, length) || length > limits_.max_bulk) return 0;
            if (n - pos < length + 2) return 0;
            const std::size_t body = pos;
            pos += detail::convert<std::size_t>(length);
            if (p[pos] != '\r' || p[pos + 1] != '\n') return 0;
            pos += 2;
            if (record && i < resp_index::capacity) {
                index_.body_[i] = static_cast<std::uint32_t>(body);
                index_.end_[i] = static_cast<std::uint32_t>(pos);
            }
        }
        index_.frame_ = record ? p : nullptr;
        payload = const_buffer{p, pos};
        return pos;
    }

    /// Decodes the value at the front of `input` (see codec.hpp and the class comment).
    decode_result decode(const_buffer input) noexcept {
        const char* const p = reinterpret_cast<const char*>(input.data());
        // Bytes past max_frame are never looked at: a frame needing them is too large.
        const std::size_t max_frame = limits_.max_frame;
        const std::size_t n = input.size() < max_frame ? input.size() : max_frame;
        std::size_t pos = pos_;
        std::size_t depth = depth_;
        if (pos == 0 && depth == 0 && n != 0 && limits_.inline_commands &&
            detail::resp_type_of(p[0]) == resp_type::inline_command)
            return decode_inline(p, n, input.size());
        // The elements left at the innermost level live in a local while decoding (the stack
        // holds the outer levels), and so do the limits: nothing is reloaded per element.
        std::uint64_t left = depth != 0 ? left_[depth - 1] : 0;
        const std::uint64_t max_bulk = limits_.max_bulk;
        auto save = [&] {
            depth_ = depth;
            if (depth != 0) left_[depth - 1] = left;
        };
        for (;;) {
            if (pos >= n) {
                save();
                return more(pos, input.size());
            }
            const char marker = p[pos];
            std::size_t next = 0;  // past the element (scalars) or its header (aggregates)
            std::size_t body = 0;  // where its text (or first child) begins
            bool plain = false;    // a bulk string, not null
            bool attribute = false;
            if (marker == '$' || marker == '!' || marker == '=') {
                std::int64_t length = 0;
                const std::size_t at = header(p, n, pos, length, next);
                if (at != 0) {
                    if (at != more_bytes) return fail_at(at);
                    save();
                    return more(pos, input.size());
                }
                body = next;
                if (length < 0) {
                    if (length != -1 || marker != '$') return fail(errc::negative_length, magnitude(length));
                } else {
                    plain = marker == '$';
                    const auto size = static_cast<std::uint64_t>(length);
                    if (size > max_bulk) return fail(errc::frame_too_large, size);
                    std::uint64_t end = next;  // in 64 bits: next + size may not fit a 32-bit size_t
                    end += size + 2;
                    if (end > n) {
                        if (end > max_frame) return fail(errc::frame_too_large, end);
                        save();
                        return more(pos, input.size());
                    }
                    const std::size_t stop = next + detail::convert<std::size_t>(size);
                    if (p[stop] != '\r') return fail(errc::malformed_frame, stop);
                    if (p[stop + 1] != '\n') return fail(errc::malformed_frame, stop + 1);
                    if (marker == '=') {
                        if (size < 4) return fail(errc::malformed_frame, next + size);
                        if (p[next + 3] != ':') return fail(errc::malformed_frame, next + 3);
                    }
                    next = stop + 2;
                }
            } else if (marker == '*' || marker == '%' || marker == '~' || marker == '|' || marker == '>') {
                std::int64_t count = 0;
                const std::size_t at = header(p, n, pos, count, next);
                if (at != 0) {
                    if (at != more_bytes) return fail_at(at);
                    save();
                    return more(pos, input.size());
                }
                attribute = marker == '|';
                body = next;
                if (count < 0) {
                    if (count != -1 || marker != '*') return fail(errc::negative_length, magnitude(count));
                } else {
                    auto children = static_cast<std::uint64_t>(count);
                    if (marker == '%' || marker == '|') children *= 2;
                    if (children > limits_.max_elements) return fail(errc::frame_too_large, children);
                    if (children != 0) {
                        if (depth >= limits_.max_depth) return fail(errc::frame_too_large, depth + 1);
                        if (indexing_) {
                            if (depth == 0) {  // the frame's aggregate (or an attribute before it)
                                index_.frame_ = nullptr;
                                index_.children_ = children;
                                index_.head_ = static_cast<std::uint32_t>(pos);
                                index_.first_ = static_cast<std::uint32_t>(next);
                                index_.bulk_ = true;
                                recording_ = !attribute;  // an attribute: the value follows
                            } else if (depth == 1) {
                                record_body(left, body, false);
                            }
                        }
                        if (depth != 0) left_[depth - 1] = left;
                        attribute_[depth] = attribute;
                        ++depth;
                        left = children;
                        pos = next;
                        scan_ = 0;
                        continue;
                    }
                }
            } else if (marker == '+' || marker == '-' || marker == ':' || marker == '_' || marker == '#' ||
                       marker == ',' || marker == '(') {
                const std::size_t at = line(p, n, pos, next);
                if (at != 0) {
                    if (at != more_bytes) return fail_at(at);
                    save();
                    return more(pos, input.size());
                }
                body = pos + 1;
            } else {
                return fail(errc::malformed_frame, pos);
            }
            // One element is complete: close the aggregates it completes. An attribute leaves
            // its slot open: the value it annotates follows. A top-level child's text and end
            // are recorded in the index.
            if (depth == 1 && indexing_) record_body(left, body, plain);
            pos = next;
            scan_ = 0;
            if (attribute) continue;
            bool open = false;
            while (depth != 0) {
                if (depth == 1 && indexing_) {
                    const std::uint64_t i = index_.children_ - left;
                    if (i < resp_index::capacity) index_.end_[i] = static_cast<std::uint32_t>(pos);
                }
                if (--left != 0) {
                    open = true;
                    break;
                }
                --depth;
                if (depth != 0) left = left_[depth - 1];
                if (attribute_[depth]) {
                    open = true;
                    break;
                }
            }
            if (open) continue;
            pos_ = 0;
            depth_ = 0;
            // the index describes this frame or none (a frame without children recorded)
            index_.frame_ = recording_ ? p : nullptr;
            recording_ = false;
            return decode_result::frame(input.first(pos), pos);
        }
    }

    /// Forgets a partly scanned frame (for a new stream).
    void reset() noexcept {
        pos_ = 0;
        scan_ = 0;
        depth_ = 0;
        recording_ = false;
        index_.frame_ = nullptr;
    }

    /// Sends `payload`, an encoded RESP value (see resp_writer), as it is; payload_too_large above
    /// max_frame. The payload is not checked.
    std::error_code encode(const_buffer payload, frame_parts& out) const {
        if (payload.size() > limits_.max_frame) return make_error_code(errc::payload_too_large);
        out.reset(payload);
        return {};
    }

private:
    /// decode_frame's short cut for a simple string, error or integer whole at the front of the
    /// `n` bytes at `p`, as decode() would take it; else 0.
    std::size_t short_line(const char* p, std::size_t n, const_buffer& payload) const noexcept {
        // the text holds at most max_bulk bytes: its CR is among the next max_bulk + 1
        const std::size_t longest = detail::saturating_add(limits_.max_bulk, 1);
        const std::size_t window = n - 1 < longest ? n : 1 + longest;
        std::size_t i = 1;
        while (i < window && p[i] != '\r' && p[i] != '\n') ++i;
        if (i == window || i + 1 >= n || p[i] != '\r' || p[i + 1] != '\n') return 0;
        if (p[0] == ':' && check_text(':', p, 1, i) != SIZE_MAX) return 0;
        index_.frame_ = nullptr;  // a frame without children
        payload = const_buffer{p, i + 2};
        return i + 2;
    }
    /// decode_frame's reading of the non-negative length after the type byte at `pos`, of at
    /// most 18 digits: moves `pos` past its CRLF; false for anything else.
    static bool short_number(const char* p, std::size_t n, std::size_t& pos, std::uint64_t& value) noexcept {
        std::size_t i = pos + 1;
        const std::size_t first = i;
        std::uint64_t v = 0;
        for (; i < n; ++i) {
            const auto d = static_cast<unsigned>(static_cast<unsigned char>(p[i])) - unsigned{'0'};
            if (d > 9) break;
            v = v * 10 + d;
        }
        if (i == first || i - first > 18 || n - i < 2 || p[i] != '\r' || p[i + 1] != '\n') return false;
        value = v;
        pos = i + 2;
        return true;
    }

    /// Records where the top-level child whose slot has `left` elements left begins its text,
    /// and whether it is a bulk string (`plain`).
    void record_body(std::uint64_t left, std::size_t body, bool plain) noexcept {
        if (!plain) index_.bulk_ = false;
        const std::uint64_t i = index_.children_ - left;
        if (i < resp_index::capacity) index_.body_[i] = static_cast<std::uint32_t>(body);
    }

    static std::uint64_t magnitude(std::int64_t v) noexcept {
        return v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    }
    decode_result fail(errc e, std::uint64_t size) noexcept {
        reset();
        return decode_result::failure(make_error_code(e), size);
    }
    /// need_more, saving the place; or frame_too_large when max_frame bytes are held already.
    decode_result more(std::size_t pos, std::size_t available) noexcept {
        if (available >= limits_.max_frame) return fail(errc::frame_too_large, limits_.max_frame);
        pos_ = pos;
        return decode_result::need_more();
    }

    // What header() and line() return besides 0 (done): more bytes are needed, a length too
    // long to read (frame_too_large, size UINT64_MAX), a line above max_bulk (frame_too_large,
    // size max_bulk), or else the position + 1 of a malformed byte (the first position is a
    // type byte, never malformed here, so a position + 1 is never below 2).
    static constexpr std::size_t more_bytes = SIZE_MAX;
    static constexpr std::size_t number_too_long = SIZE_MAX - 1;
    static constexpr std::size_t line_too_long = SIZE_MAX - 2;

    decode_result fail_at(std::size_t at) noexcept {
        if (at == number_too_long) return fail(errc::frame_too_large, UINT64_MAX);
        if (at == line_too_long) return fail(errc::frame_too_large, limits_.max_bulk);
        return fail(errc::malformed_frame, at - 1);
    }

    /// The length or count line of the element at `pos`: sets `value` and `next` (past the
    /// line) and returns 0, or returns a status above.
    static std::size_t header(const char* p, std::size_t n, std::size_t pos, std::int64_t& value,
                              std::size_t& next) noexcept {
        std::size_t i = pos + 1;
        const bool negative = i < n && p[i] == '-';
        if (negative) ++i;
        const std::size_t first = i;
        std::uint64_t v = 0;
        for (; i < n; ++i) {
            const auto d = static_cast<unsigned>(static_cast<unsigned char>(p[i])) - unsigned{'0'};
            if (d > 9) break;
            if (i - first == 18) return number_too_long;
            v = v * 10 + d;
        }
        if (i + 1 >= n) return i < n && (i == first || p[i] != '\r') ? i + 1 : more_bytes;
        if (i == first || p[i] != '\r') return i + 1;
        if (p[i + 1] != '\n') return i + 2;
        value = negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
        next = i + 2;
        return 0;
    }

    /// The line of a simple element at `pos`: checks it, sets `next` past it and returns 0, or
    /// returns a status above (remembering how far an incomplete line was scanned). The text
    /// ends at the first CR or LF: a CR must be followed by LF, and a LF must follow a CR.
    std::size_t line(const char* p, std::size_t n, std::size_t pos, std::size_t& next) noexcept {
        const std::size_t begin = pos + 1;
        std::size_t i = scan_ > begin ? scan_ : begin;
        // the text holds at most max_bulk bytes, so its CR is among the next max_bulk + 1
        const std::size_t longest = detail::saturating_add(limits_.max_bulk, 1);
        const bool capped = n - begin >= longest;
        const std::size_t window = capped ? begin + longest : n;
        while (i < window && p[i] != '\r' && p[i] != '\n') ++i;
        if (i == window) {
            if (capped) return line_too_long;
            scan_ = i;
            return more_bytes;
        }
        if (p[i] == '\n') return i + 1;  // a LF without its CR
        if (i + 1 == n) {
            scan_ = i;  // the CR, checked again with its successor
            return more_bytes;
        }
        if (p[i + 1] != '\n') return i + 2;
        const std::size_t bad = check_text(p[pos], p, begin, i);
        if (bad != SIZE_MAX) return bad + 1;
        next = i + 2;
        return 0;
    }

    /// The position of the first byte of text [begin, stop) invalid for its type, or SIZE_MAX.
    static std::size_t check_text(char marker, const char* p, std::size_t begin, std::size_t stop) noexcept {
        switch (marker) {
            case '_': return begin == stop ? SIZE_MAX : begin;
            case '#': return stop - begin == 1 && (p[begin] == 't' || p[begin] == 'f') ? SIZE_MAX : begin;
            case ':': {
                std::size_t i = begin;
                bool negative = false;
                if (i < stop && (p[i] == '-' || p[i] == '+')) negative = p[i++] == '-';
                if (i == stop) return i;
                std::uint64_t v = 0;
                const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
                for (; i < stop; ++i) {
                    if (p[i] < '0' || p[i] > '9') return i;
                    const auto d = static_cast<std::uint64_t>(p[i] - '0');
                    if (v > (limit - d) / 10) return i;
                    v = v * 10 + d;
                }
                return SIZE_MAX;
            }
            case '(': {
                std::size_t i = begin;
                if (i < stop && (p[i] == '-' || p[i] == '+')) ++i;
                if (i == stop) return i;
                for (; i < stop; ++i)
                    if (p[i] < '0' || p[i] > '9') return i;
                return SIZE_MAX;
            }
            case ',': {
                if (begin == stop) return begin;
                for (std::size_t i = begin; i < stop; ++i) {
                    const char c = p[i];
                    const bool ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' ||
                                    c == 'E' || c == 'i' || c == 'n' || c == 'f' || c == 'a';
                    if (!ok) return i;
                }
                return SIZE_MAX;
            }
            default: return SIZE_MAX;  // simple strings and errors: any bytes but CR and LF
        }
    }

    decode_result decode_inline(const char* p, std::size_t n, std::size_t available) noexcept {
        const std::size_t limit =
            limits_.max_inline < limits_.max_frame ? limits_.max_inline : limits_.max_frame;
        const std::size_t window = n < limit ? n : limit;
        const void* nl = scan_ < window ? std::memchr(p + scan_, '\n', window - scan_) : nullptr;
        if (!nl) {
            if (available >= limit) return fail(errc::frame_too_large, limit);
            scan_ = window;
            return decode_result::need_more();
        }
        const auto size = static_cast<std::size_t>(static_cast<const char*>(nl) - p) + 1;
        scan_ = 0;
        index_.frame_ = nullptr;
        return decode_result::frame(const_buffer{p, size}, size);
    }

    resp_limits limits_;
    std::size_t pos_ = 0;   // where the next element of the partial frame starts
    std::size_t scan_ = 0;  // how far the current line was searched for its end
    std::size_t depth_ = 0;
    std::uint64_t left_[depth_capacity] = {};  // elements still to come at each level
    bool attribute_[depth_capacity] = {};      // whether each level is an attribute
    bool indexing_ = true;                     // frames fit resp_index's 32-bit offsets
    bool recording_ = false;                   // this frame's aggregate is being recorded
    mutable resp_index index_;                 // written by decode_frame() too (const: codec.hpp)
};

inline resp_value::resp_value(const_buffer frame, const resp_codec& codec) noexcept {
    const resp_index& index = codec.index();
    const char* p = reinterpret_cast<const char*>(frame.data());
    if (index.frame_ != p || p == nullptr) {  // a frame without recorded children (scalars too)
        init(frame);
        if (type_ != resp_type::inline_command && is_aggregate() && index.describes(head_, length_))
            index_ = &index;
        return;
    }
    if (index.head_ == 0) {
        // the aggregate the codec has just recorded, without attributes: its header is not read
        type_ = detail::resp_type_of(*p);
        head_ = p;
        body_ = p + index.first_;
        length_ = static_cast<std::size_t>(index.children_);
        end_ = p + frame.size();
        index_ = &index;
        return;
    }
    init(frame);
    if (type_ != resp_type::inline_command && is_aggregate() && index.describes(head_, length_))
        index_ = &index;
}

inline resp_value resp_value::parse(const_buffer bytes, std::error_code& ec, const resp_limits& limits,
                                    std::uint64_t* error_size) noexcept {
    resp_limits checked = limits;
    if (checked.max_depth > resp_codec::depth_capacity) checked.max_depth = resp_codec::depth_capacity;
    if (checked.max_frame == 0 || checked.max_inline == 0) {
        ec = make_error_code(errc::invalid_argument);
        return {};
    }
    resp_codec codec(checked);
    const decode_result r = codec.decode(bytes);
    if (r.is_frame() && r.consumed == bytes.size()) {
        ec.clear();
        return resp_value(r.payload);
    }
    if (r.is_error()) {
        ec = r.error;
        if (error_size) *error_size = r.size;
    } else {
        ec = make_error_code(r.is_frame() ? errc::frame_size_mismatch : errc::truncated_stream);
        if (error_size) *error_size = r.is_frame() ? r.consumed : bytes.size();
    }
    return {};
}

/// Appends RESP values to a std::string: commands (arrays of bulk strings) and replies of every
/// type. Aggregates are written as a header (array(n), map(n), ...) followed by their children.
///
/// Simple strings and errors cannot hold "\r" or "\n": such text throws std::system_error
/// (errc::invalid_argument), as does a verbatim format that is not three bytes.
class resp_writer {
public:
    /// A writer appending to `out` (which must outlive it).
    explicit resp_writer(std::string& out) noexcept : out_(&out) {}

    /// The string written to.
    std::string& buffer() const noexcept { return *out_; }

    /// A command: an array of bulk strings, one per argument (anything convertible to
    /// std::string_view).
    template <typename... Args>
    resp_writer& command(const Args&... args) {
        array(sizeof...(Args));
        (bulk_string(std::string_view(args)), ...);
        return *this;
    }
    /// A command from a range of arguments (each convertible to std::string_view).
    template <typename Range>
    resp_writer& command_range(const Range& args) {
        std::size_t n = 0;
        for (const auto& a : args) {
            (void)a;
            ++n;
        }
        array(n);
        for (const auto& a : args) bulk_string(std::string_view(a));
        return *this;
    }

    /// `+text`.
    resp_writer& simple_string(std::string_view text) { return line('+', text); }
    /// `-text` (by convention an upper-case code, a space, a message: "ERR syntax error").
    resp_writer& error(std::string_view text) { return line('-', text); }
    /// `:value`.
    resp_writer& integer(std::int64_t value) {
        char text[24];
        put(":", 1, std::string_view(text, format_signed(value, text)));
        return *this;
    }
    /// `$n` and the bytes.
    resp_writer& bulk_string(std::string_view bytes) { return bulk('$', bytes); }
    /// RESP2's null bulk string `$-1` (what GET of a missing key returns).
    resp_writer& null_bulk_string() {
        out_->append("$-1\r\n", 5);
        return *this;
    }
    /// RESP2's null array `*-1`.
    resp_writer& null_array() {
        out_->append("*-1\r\n", 5);
        return *this;
    }
    /// RESP3's null `_`.
    resp_writer& null() {
        out_->append("_\r\n", 3);
        return *this;
    }
    /// RESP3's boolean `#t` / `#f`.
    resp_writer& boolean(bool value) {
        out_->append(value ? "#t\r\n" : "#f\r\n", 4);
        return *this;
    }
    /// RESP3's double, with 17 significant digits (as Redis), "inf", "-inf" or "nan".
    resp_writer& double_number(double value) {
        char text[40];
        int n = 0;
        if (value != value)
            n = std::snprintf(text, sizeof text, "nan");
        else if (value > 1.7976931348623157e308)
            n = std::snprintf(text, sizeof text, "inf");
        else if (value < -1.7976931348623157e308)
            n = std::snprintf(text, sizeof text, "-inf");
        else
            n = std::snprintf(text, sizeof text, "%.17g", value);
        put(",", 1, std::string_view(text, static_cast<std::size_t>(n)));
        return *this;
    }
    /// RESP3's big number `(digits` (the digits as given, an optional '-' first).
    resp_writer& big_number(std::string_view digits) { return line('(', digits); }
    /// RESP3's bulk error `!n` and the text.
    resp_writer& bulk_error(std::string_view text) { return bulk('!', text); }
    /// RESP3's verbatim string: `=n`, the three-byte format ("txt", "mkd"), ':' and the text.
    resp_writer& verbatim_string(std::string_view format, std::string_view text) {
        if (format.size() != 3)
            detail::throw_error(make_error_code(errc::invalid_argument),
                                "resp_writer: a verbatim format has 3 bytes");
        header('=', format.size() + 1 + text.size());
        out_->append(format.data(), format.size());
        out_->push_back(':');
        out_->append(text.data(), text.size());
        out_->append("\r\n", 2);
        return *this;
    }
    /// The header of an array of `n` values.
    resp_writer& array(std::size_t n) { return header('*', n); }
    /// The header of a RESP3 map of `n` pairs (then key, value, key, value...).
    resp_writer& map(std::size_t n) { return header('%', n); }
    /// The header of a RESP3 set of `n` values.
    resp_writer& set(std::size_t n) { return header('~', n); }
    /// The header of a RESP3 push of `n` values.
    resp_writer& push(std::size_t n) { return header('>', n); }
    /// The header of a RESP3 attribute of `n` pairs (then the pairs, then the value annotated).
    resp_writer& attribute(std::size_t n) { return header('|', n); }
    /// Bytes already encoded (a value decoded elsewhere, forwarded).
    resp_writer& raw(const_buffer encoded) {
        out_->append(encoded.str().data(), encoded.size());
        return *this;
    }

    /// Writes `value` in decimal at `out` (room for 20 bytes); returns the digits' count.
    static std::size_t format_unsigned(std::uint64_t value, char* out) noexcept {
        char text[20];
        std::size_t n = 0;
        do {
            text[n++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        for (std::size_t i = 0; i < n; ++i) out[i] = text[n - 1 - i];
        return n;
    }
    /// Writes `value` in decimal at `out` (room for 20 bytes, a sign included).
    static std::size_t format_signed(std::int64_t value, char* out) noexcept {
        if (value >= 0) return format_unsigned(static_cast<std::uint64_t>(value), out);
        out[0] = '-';
        return 1 + format_unsigned(0 - static_cast<std::uint64_t>(value), out + 1);
    }

private:
    // The header line of an aggregate or a bulk value ("*3\r\n", "$5\r\n") into `text`; its length.
    static std::size_t header_text(char marker, std::size_t n, char* text) noexcept {
        text[0] = marker;
        std::size_t len = 1 + format_unsigned(n, text + 1);
        text[len++] = '\r';
        text[len++] = '\n';
        return len;
    }
    resp_writer& header(char marker, std::size_t n) {
        char text[24];
        out_->append(text, header_text(marker, n, text));
        return *this;
    }
    // `head`, `body` and CR LF. A short body goes out in one append from the stack: one call
    // into std::string where appending the pieces would make three.
    static constexpr std::size_t short_value = 64;
    void put(const char* head, std::size_t head_size, std::string_view body) {
        if (body.size() > short_value) {
            out_->append(head, head_size);
            out_->append(body.data(), body.size());
            out_->append("\r\n", 2);
            return;
        }
        char whole[24 + short_value + 2];  // head_size <= 23: a marker and a 20-digit count, CR LF
        std::memcpy(whole, head, head_size);
        std::size_t len = head_size;
        if (!body.empty()) std::memcpy(whole + len, body.data(), body.size());
        len += body.size();
        whole[len++] = '\r';
        whole[len++] = '\n';
        out_->append(whole, len);
    }
    resp_writer& bulk(char marker, std::string_view bytes) {
        char text[24];
        put(text, header_text(marker, bytes.size(), text), bytes);
        return *this;
    }
    resp_writer& line(char marker, std::string_view text) {
        for (const char c : text)
            if (c == '\r' || c == '\n')
                detail::throw_error(make_error_code(errc::invalid_argument),
                                    "resp_writer: a simple string or error cannot hold CR or LF");
        put(&marker, 1, text);
        return *this;
    }

    std::string* out_;
};

SOCKFRAME_NAMESPACE_END
