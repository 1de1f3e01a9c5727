#include "common/secrets.h"

#include <algorithm>
#include <mutex>

namespace posflow {
namespace {

bool IsUnreserved(unsigned char byte) {
  return (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
         (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' || byte == '~';
}

std::string PercentEncode(std::string_view text, const char* hex_digits) {
  std::string encoded;
  encoded.reserve(text.size() * 3);
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (IsUnreserved(byte)) {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(hex_digits[byte >> 4]);
      encoded.push_back(hex_digits[byte & 0x0F]);
    }
  }
  return encoded;
}

std::string JsonEscapeQuotes(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

// Bytes that continue a word: a short secret next to one of them is part of that word.
bool IsWordByte(unsigned char byte) {
  return (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
         (byte >= '0' && byte <= '9') || byte == '_' || byte >= 0x80;
}

bool StandsAlone(std::string_view text, std::size_t begin, std::size_t length) {
  const bool free_before = begin == 0 || !IsWordByte(static_cast<unsigned char>(text[begin - 1]));
  const std::size_t end = begin + length;
  const bool free_after = end == text.size() || !IsWordByte(static_cast<unsigned char>(text[end]));
  return free_before && free_after;
}

bool LongerFirst(const std::string& left, const std::string& right) {
  return left.size() != right.size() ? left.size() > right.size() : left < right;
}

}  // namespace

std::vector<std::string> SecretForms(std::string_view secret) {
  std::vector<std::string> forms;
  if (secret.empty()) return forms;
  forms.emplace_back(secret);
  forms.push_back(PercentEncode(secret, "0123456789ABCDEF"));
  forms.push_back(PercentEncode(secret, "0123456789abcdef"));
  forms.push_back(JsonEscapeQuotes(secret));
  std::sort(forms.begin(), forms.end(), LongerFirst);
  forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
  return forms;
}

void SecretRegistry::Register(std::string_view secret) {
  if (secret.empty()) return;
  std::vector<std::string> forms = SecretForms(secret);
  std::unique_lock lock(mutex_);
  for (std::string& form : forms) {
    if (std::find(forms_.begin(), forms_.end(), form) == forms_.end()) {
      forms_.push_back(std::move(form));
    }
  }
  std::sort(forms_.begin(), forms_.end(), LongerFirst);
  empty_.store(forms_.empty(), std::memory_order_release);
}

std::string SecretRegistry::Redact(std::string_view text) const {
  if (empty_.load(std::memory_order_acquire)) return std::string(text);
  std::shared_lock lock(mutex_);
  std::string redacted;
  redacted.reserve(text.size());
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t matched = 0;
    // Longest first, so that "s3cr%zzet" wins over a registered "%zz" inside it.
    for (const std::string& form : forms_) {
      if (form.size() > text.size() - position) continue;
      if (text.compare(position, form.size(), form) != 0) continue;
      if (form.size() < kMinSecretBytesMaskedAnywhere &&
          !StandsAlone(text, position, form.size())) {
        continue;
      }
      matched = form.size();
      break;
    }
    if (matched > 0) {
      redacted.append(kSecretMask);
      position += matched;
    } else {
      redacted.push_back(text[position]);
      ++position;
    }
  }
  return redacted;
}

std::size_t SecretRegistry::size() const {
  std::shared_lock lock(mutex_);
  return forms_.size();
}

SecretRegistry& ProcessSecrets() {
  static SecretRegistry* registry = new SecretRegistry();  // never destroyed: logs run to exit
  return *registry;
}

void RegisterSecret(std::string_view secret) { ProcessSecrets().Register(secret); }

std::string RedactSecrets(std::string_view text) { return ProcessSecrets().Redact(text); }

}  // namespace posflow
