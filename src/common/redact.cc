#include "common/redact.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>

namespace posflow {
namespace {

constexpr std::string_view kMask = "****";

// Keys whose values are secrets, in a libpq keyword string or a URL's query.
bool IsPasswordKey(std::string_view key) { return key == "password" || key == "sslpassword"; }

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// A password found in a connection string: the bytes to mask, [mask_begin, mask_end) (with
// any quotes), the value as written (without quotes) and as the client library reads it.
struct SecretSpan {
  std::size_t mask_begin = 0;
  std::size_t mask_end = 0;
  std::string written;
  std::optional<std::string> decoded;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// nullopt when a '%' is not followed by two hex digits (libpq refuses such a URL).
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t index = 0; index < text.size(); ++index) {
    if (text[index] != '%') {
      decoded.push_back(text[index]);
      continue;
    }
    if (index + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[index + 1]);
    const int low = HexValue(text[index + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    decoded.push_back(static_cast<char>(high * 16 + low));
    index += 2;
  }
  return decoded;
}

// The length of "scheme://" at the start of `text` (RFC 3986 scheme), 0 when there is none.
std::size_t SchemePrefixLength(std::string_view text) {
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text[0]))) return 0;
  std::size_t index = 1;
  while (index < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[index])) || text[index] == '+' ||
          text[index] == '-' || text[index] == '.')) {
    ++index;
  }
  return text.substr(index, 3) == "://" ? index + 3 : 0;
}

SecretSpan SpanOf(std::string_view text, std::size_t begin, std::size_t end, bool percent) {
  SecretSpan span;
  span.mask_begin = begin;
  span.mask_end = end;
  span.written = std::string(text.substr(begin, end - begin));
  span.decoded = percent ? PercentDecode(span.written) : std::optional<std::string>(span.written);
  return span;
}

// The password of the user info, and the password parameters of the query.
std::vector<SecretSpan> UrlSecretSpans(std::string_view text, std::size_t authority_begin) {
  std::vector<SecretSpan> spans;
  std::size_t authority_end = text.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = text.size();
  // The last '@' of the authority ends the user info: passwords may hold '@'.
  const std::size_t at = text.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
  std::size_t query_from = authority_end;
  if (at != std::string_view::npos && at >= authority_begin) {
    const std::size_t colon = text.find(':', authority_begin);
    if (colon != std::string_view::npos && colon < at) {
      spans.push_back(SpanOf(text, colon + 1, at, /*percent=*/true));
    }
  } else {
    // No '@' before the first '/', '?' or '#': either there is no user info, or its password
    // holds one of those raw. Then a ':' in the authority is not followed by a port (digits
    // only) and an '@' comes later; the password runs up to the last '@'. (This over-masks a
    // host list with an '@' in the query: the safe side.)
    std::size_t colon_from = authority_begin;
    if (colon_from < text.size() && text[colon_from] == '[') {  // an IPv6 literal's colons
      const std::size_t close = text.find(']', colon_from);
      colon_from = close == std::string_view::npos ? text.size() : close;
    }
    const std::size_t colon = text.find(':', colon_from);
    const std::size_t last_at = text.rfind('@');
    if (colon != std::string_view::npos && colon < authority_end &&
        last_at != std::string_view::npos && last_at > authority_end) {
      const std::string_view port = text.substr(colon + 1, authority_end - colon - 1);
      const bool is_port = !port.empty() && std::all_of(port.begin(), port.end(), [](char c) {
        return c >= '0' && c <= '9';
      });
      if (!is_port) {
        spans.push_back(SpanOf(text, colon + 1, last_at, /*percent=*/true));
        query_from = last_at;
      }
    }
  }
  // password= and sslpassword= query parameters (libpq percent-decodes them).
  const std::size_t query = text.find('?', query_from);
  if (query == std::string_view::npos) return spans;
  std::size_t parameter = query + 1;
  while (parameter < text.size()) {
    std::size_t parameter_end = text.find_first_of("&#", parameter);
    if (parameter_end == std::string_view::npos) parameter_end = text.size();
    const std::size_t equals = text.find('=', parameter);
    if (equals != std::string_view::npos && equals < parameter_end &&
        IsPasswordKey(text.substr(parameter, equals - parameter))) {
      spans.push_back(SpanOf(text, equals + 1, parameter_end, /*percent=*/true));
    }
    if (parameter_end >= text.size() || text[parameter_end] == '#') break;
    parameter = parameter_end + 1;
  }
  return spans;
}

// A libpq keyword string, read the way libpq reads one: `key = value` pairs separated by
// white space; a value is a run of non-space bytes or a single-quoted string, and a backslash
// takes the next byte literally in both.
std::vector<SecretSpan> KeywordSecretSpans(std::string_view text) {
  std::vector<SecretSpan> spans;
  std::size_t index = 0;
  auto skip_space = [&] {
    while (index < text.size() && IsSpace(text[index])) ++index;
  };
  while (true) {
    skip_space();
    if (index >= text.size()) return spans;
    const std::size_t key_begin = index;
    while (index < text.size() && text[index] != '=' && !IsSpace(text[index])) ++index;
    const bool secret = IsPasswordKey(text.substr(key_begin, index - key_begin));
    skip_space();
    if (index >= text.size() || text[index] != '=') {
      // Malformed: libpq stops here. Behind a password keyword, hide all that follows.
      if (secret && index < text.size()) spans.push_back(SpanOf(text, index, text.size(), false));
      return spans;
    }
    ++index;
    skip_space();
    const std::size_t value_begin = index;
    std::string value;
    bool closed = true;
    if (index < text.size() && text[index] == '\'') {
      closed = false;
      ++index;
      while (index < text.size()) {
        if (text[index] == '\\' && index + 1 < text.size()) {
          value.push_back(text[index + 1]);
          index += 2;
        } else if (text[index] == '\'') {
          ++index;
          closed = true;
          break;
        } else {
          value.push_back(text[index++]);
        }
      }
    } else {
      while (index < text.size() && !IsSpace(text[index])) {
        if (text[index] == '\\' && index + 1 < text.size()) ++index;
        value.push_back(text[index++]);
      }
    }
    if (secret && index > value_begin) {
      SecretSpan span;
      span.mask_begin = value_begin;
      span.mask_end = index;
      const bool quoted = text[value_begin] == '\'';
      const std::size_t written_begin = value_begin + (quoted ? 1 : 0);
      const std::size_t written_end = quoted && closed ? index - 1 : index;
      span.written = std::string(text.substr(written_begin, written_end - written_begin));
      span.decoded = value;
      spans.push_back(std::move(span));
    }
    if (!closed) return spans;
  }
}

std::vector<SecretSpan> SecretSpans(std::string_view text) {
  std::size_t start = 0;
  while (start < text.size() && IsSpace(text[start])) ++start;
  const std::size_t prefix = SchemePrefixLength(text.substr(start));
  if (prefix > 0) return UrlSecretSpans(text, start + prefix);
  if (text.find('=') != std::string_view::npos) return KeywordSecretSpans(text);
  // Neither form, yet a URL inside (a stray word before it): its user info is still hidden.
  const std::size_t separator = text.find("://");
  if (separator == std::string_view::npos) return {};
  return UrlSecretSpans(text, separator + 3);
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::vector<SecretSpan> spans = SecretSpans(url);
  std::string text(url);
  // From the back, so that earlier offsets stay valid.
  std::sort(spans.begin(), spans.end(),
            [](const SecretSpan& a, const SecretSpan& b) { return a.mask_begin > b.mask_begin; });
  for (const SecretSpan& span : spans) {
    text.replace(span.mask_begin, span.mask_end - span.mask_begin, kMask);
  }
  return text;
}

std::vector<std::string> ConnectionStringSecrets(std::string_view url) {
  std::vector<std::string> secrets;
  for (SecretSpan& span : SecretSpans(url)) {
    if (span.decoded.has_value() && *span.decoded != span.written && !span.decoded->empty()) {
      secrets.push_back(std::move(*span.decoded));
    }
    if (!span.written.empty()) secrets.push_back(std::move(span.written));
  }
  return secrets;
}

bool IsSecretKafkaProperty(std::string_view key) {
  std::string lower(key);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // sasl.oauthbearer.config holds client credentials for some token endpoints.
  static constexpr std::array<std::string_view, 6> kSecretWords = {
      "password", "secret", "jaas", "key.pem", "token", "oauthbearer.config"};
  return std::any_of(kSecretWords.begin(), kSecretWords.end(), [&](std::string_view word) {
    return lower.find(word) != std::string::npos;
  });
}

std::string RedactKafkaProperty(std::string_view key, std::string_view value) {
  return IsSecretKafkaProperty(key) ? std::string(kMask) : std::string(value);
}

}  // namespace posflow
