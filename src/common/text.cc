#include "common/text.h"

namespace posflow {

std::size_t Utf8CharLength(std::string_view text) {
  if (text.empty()) return 0;
  const auto byte = [&text](std::size_t index) { return static_cast<unsigned char>(text[index]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;  // the range of the second byte, which rules out overlongs,
  unsigned char high = 0xBF;  // surrogates and code points above U+10FFFF
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t index = 2; index < length; ++index) {
    if ((byte(index) & 0xC0) != 0x80) return 0;
  }
  return length;
}

bool IsValidUtf8(std::string_view text) {
  while (!text.empty()) {
    const std::size_t length = Utf8CharLength(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

std::string StorableText(std::string_view text, std::size_t max_bytes) {
  std::string storable;
  storable.reserve(text.size() < max_bytes ? text.size() : max_bytes);
  while (!text.empty()) {
    std::size_t length = Utf8CharLength(text);
    const bool valid = length > 0 && text[0] != '\0';
    if (length == 0) length = 1;
    if (storable.size() + (valid ? length : 1) > max_bytes) {
      storable += "\u2026";
      break;
    }
    if (valid) {
      storable.append(text.substr(0, length));
    } else {
      storable.push_back('?');
    }
    text.remove_prefix(length);
  }
  return storable;
}

namespace {

void AppendHexEscape(unsigned char byte, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->append("\\x");
  out->push_back(kHex[byte >> 4]);
  out->push_back(kHex[byte & 0x0F]);
}

// Appends `text` (whole UTF-8 characters, as cut by the caller) escaped; newline and tab kept
// as they are when `keep_line_breaks`.
void AppendEscaped(std::string_view text, bool keep_line_breaks, std::string* out) {
  while (!text.empty()) {
    const std::size_t length = Utf8CharLength(text);
    const auto lead = static_cast<unsigned char>(text[0]);
    const bool kept_break = keep_line_breaks && (lead == '\n' || lead == '\t');
    const bool c0_or_del = length == 1 && !kept_break && (lead < 0x20 || lead == 0x7F);
    const bool c1 = length == 2 && lead == 0xC2 && static_cast<unsigned char>(text[1]) <= 0x9F;
    if (length == 0) {
      AppendHexEscape(lead, out);
      text.remove_prefix(1);
      continue;
    }
    if (c0_or_del || c1) {
      for (std::size_t index = 0; index < length; ++index) {
        AppendHexEscape(static_cast<unsigned char>(text[index]), out);
      }
    } else {
      out->append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
}

}  // namespace

std::string EscapeControlBytes(std::string_view bytes) {
  std::string shown;
  shown.reserve(bytes.size());
  AppendEscaped(bytes, /*keep_line_breaks=*/true, &shown);
  return shown;
}

std::string EscapeControlChars(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  AppendEscaped(text, /*keep_line_breaks=*/false, &escaped);
  return escaped;
}

std::string LoggableText(std::string_view text, std::size_t max_bytes) {
  std::size_t kept = 0;
  while (kept < text.size()) {
    std::size_t length = Utf8CharLength(text.substr(kept));
    if (length == 0) length = 1;
    if (kept + length > max_bytes) break;
    kept += length;
  }
  std::string loggable = EscapeControlChars(text.substr(0, kept));
  if (kept < text.size()) loggable += "\u2026";
  return loggable;
}

}  // namespace posflow
