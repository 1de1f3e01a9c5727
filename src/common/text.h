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
// valid UTF-8: as EscapeControlChars below, but newline and tab are kept (a payload's own line
// breaks). What `posflow dlq show` and the dashboard's dead-letter view print of a payload.
std::string EscapeControlBytes(std::string_view bytes);

// `text` safe to write to a terminal or a log line: every byte that could start a control
// sequence is written as "\xNN" (lower-case hex) instead. Those are the C0 controls
// (0x00-0x1F, so also ESC 0x1B, tab and newline: a logged value stays on its line), DEL (0x7F),
// both bytes of a C1 control character encoded in UTF-8 (U+0080-U+009F, e.g. U+009B CSI is
// "\xc2\x9b") and every byte that is not part of valid UTF-8 (a lone 0x9B is CSI to an 8-bit
// terminal). Everything else, backslashes included, is kept as it is.
std::string EscapeControlChars(std::string_view text);

// A value from a message (a transaction id, a store name) for a log line: at most `max_bytes`
// of `text` (cut on a character boundary, then "…"), escaped by EscapeControlChars.
std::string LoggableText(std::string_view text, std::size_t max_bytes = 200);

}  // namespace posflow
