#pragma once

// Text that crosses into stores and headers from untrusted bytes: UTF-8 checks and the
// bounded, always-storable form of a string (for error details, dead-letter reasons, logs).

#include <cstddef>
#include <string>
#include <string_view>

namespace posflow {

// Length in bytes of the valid UTF-8 character (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) that starts `text`, or 0 when `text` does not start with one.
std::size_t Utf8CharLength(std::string_view text);

// Whether `text` is valid UTF-8.
bool IsValidUtf8(std::string_view text);

// `text` as something any PostgreSQL text column, Kafka header or log line takes: every NUL
// and every byte that is not part of a valid UTF-8 character becomes '?', and the result is cut
// to at most `max_bytes` (plus "…" when cut), on a character boundary.
std::string StorableText(std::string_view text, std::size_t max_bytes = 4096);

// `bytes` made inert for a terminal or a web page, every byte still visible and the result
// valid UTF-8: control characters (but newline and tab), DEL and every byte that is not part of
// a valid UTF-8 character become "\xNN" (lower-case hex); the rest is copied. What
// `posflow dlq show` and the dashboard's dead-letter view print of a payload.
std::string EscapeControlBytes(std::string_view bytes);

}  // namespace posflow
