#include "common/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace posflow {
namespace {

constexpr std::string_view kMask = "****";

// Masks the value after every occurrence of `key` (e.g. "password=") up to a delimiter.
std::string MaskKeyValue(std::string text, std::string_view key, std::string_view delimiters) {
  size_t search_from = 0;
  while (true) {
    size_t key_pos = text.find(key, search_from);
    if (key_pos == std::string::npos) return text;
    // Only a whole key: start of text or after a separator.
    if (key_pos > 0) {
      char before = text[key_pos - 1];
      if (std::isalnum(static_cast<unsigned char>(before)) || before == '_') {
        search_from = key_pos + key.size();
        continue;
      }
    }
    size_t value_begin = key_pos + key.size();
    size_t value_end = value_begin;
    if (value_end < text.size() && text[value_end] == '\'') {
      // libpq quoted value: 'se cret'
      value_end = text.find('\'', value_end + 1);
      value_end = value_end == std::string::npos ? text.size() : value_end + 1;
    } else {
      value_end = text.find_first_of(delimiters, value_begin);
      if (value_end == std::string::npos) value_end = text.size();
    }
    text.replace(value_begin, value_end - value_begin, kMask);
    search_from = value_begin + kMask.size();
  }
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string text(url);
  size_t scheme_end = text.find("://");
  if (scheme_end != std::string::npos) {
    size_t authority_begin = scheme_end + 3;
    size_t authority_end = text.find_first_of("/?#", authority_begin);
    if (authority_end == std::string::npos) authority_end = text.size();
    // The last '@' in the authority ends the user info (passwords may contain '@').
    size_t at = text.rfind('@', authority_end);
    if (at != std::string::npos && at >= authority_begin) {
      size_t colon = text.find(':', authority_begin);
      if (colon != std::string::npos && colon < at) {
        text.replace(colon + 1, at - colon - 1, kMask);
      }
    }
    text = MaskKeyValue(std::move(text), "password=", "&#");
  } else {
    text = MaskKeyValue(std::move(text), "password=", " \t");
  }
  return text;
}

bool IsSecretKafkaProperty(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::array<std::string_view, 5> kSecretWords = {
      "password", "secret", "jaas", "key.pem", "token"};
  return std::any_of(kSecretWords.begin(), kSecretWords.end(), [&](std::string_view word) {
    return lower.find(word) != std::string::npos;
  });
}

std::string RedactKafkaProperty(std::string_view key, std::string_view value) {
  return IsSecretKafkaProperty(key) ? std::string(kMask) : std::string(value);
}

}  // namespace posflow
