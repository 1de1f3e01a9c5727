#include "serve/dead_letter_json.h"

#include <algorithm>
#include <string_view>

#include "common/text.h"
#include "serve/json_writer.h"

namespace posflow::serve {
namespace {

void WriteCommon(const ops::DeadLetterRow& letter, JsonWriter& json) {
  json.Key("id").Int(letter.id);
  json.Key("stage").String(letter.stage);
  json.Key("topic").String(letter.topic);
  json.Key("partition").Int(letter.partition);
  json.Key("offset").Int(letter.offset);
  json.Key("first_seen_at").StringOrNull(letter.first_seen_at);
  json.Key("replayed_at").StringOrNull(letter.replayed_at);
  json.Key("reasons").BeginArray();
  for (const std::string& reason : letter.reasons) json.String(reason);
  json.EndArray();
  json.Key("payload_purged_at").StringOrNull(letter.payload_purged_at);
}

// The first `max_bytes` of `bytes`, not cutting a UTF-8 character in two.
std::string_view Head(std::string_view bytes, std::size_t max_bytes) {
  if (bytes.size() <= max_bytes) return bytes;
  std::size_t end = 0;
  while (end < bytes.size()) {
    const std::size_t length = std::max<std::size_t>(1, Utf8CharLength(bytes.substr(end)));
    if (end + length > max_bytes) break;
    end += length;
  }
  return bytes.substr(0, end);
}

}  // namespace

std::string DeadLetterListJson(const std::vector<ops::DeadLetterRow>& letters,
                               std::int64_t limit) {
  JsonWriter json;
  json.BeginObject();
  json.Key("limit").Int(limit);
  json.Key("dead_letters").BeginArray();
  for (const ops::DeadLetterRow& letter : letters) {
    json.BeginObject();
    WriteCommon(letter, json);
    json.Key("bytes").Int(letter.purged() ? letter.purged_payload_bytes : letter.payload_bytes);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  return json.Take();
}

std::string DeadLetterJson(const ops::DeadLetterRow& letter) {
  JsonWriter json;
  json.BeginObject();
  WriteCommon(letter, json);
  json.Key("replayed_as").StringOrNull(letter.replayed_as);
  json.Key("details").String(letter.details);
  json.Key("bytes").Int(letter.purged() ? letter.purged_payload_bytes : letter.payload_bytes);
  if (letter.purged()) {
    json.Key("key").Null();
    json.Key("payload").Null();
    json.Key("payload_shown_bytes").Int(0);
    json.Key("payload_truncated").Bool(false);
  } else {
    const std::string_view shown = Head(letter.payload, kMaxShownPayloadBytes);
    json.Key("key").String(EscapeControlBytes(letter.key));
    json.Key("payload").String(EscapeControlBytes(shown));
    json.Key("payload_shown_bytes").Int(static_cast<std::int64_t>(shown.size()));
    json.Key("payload_truncated").Bool(shown.size() < letter.payload.size());
  }
  json.EndObject();
  return json.Take();
}

}  // namespace posflow::serve
