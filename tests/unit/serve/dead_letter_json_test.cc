// serve/dead_letter_json.h: a dead letter's bytes reach the browser escaped, as `dlq show`
// prints them, and bounded.

#include "serve/dead_letter_json.h"

#include <gtest/gtest.h>

#include <string>

namespace posflow::serve {
namespace {

using namespace std::string_literals;

ops::DeadLetterRow Letter() {
  ops::DeadLetterRow letter;
  letter.id = 7;
  letter.topic = "PointOfSale";
  letter.partition = 2;
  letter.offset = 41;
  letter.key = "S0\x00" "1"s;
  letter.payload = "{\"a\": \"<b>\x01\xff\"}\n\t"s;
  letter.payload_bytes = 16;
  letter.reasons = {"json.syntax", "encoding.utf8"};
  letter.details = "not valid JSON";
  letter.first_seen_at = "2024-02-03T10:00:00Z";
  return letter;
}

TEST(DeadLetterJson, ShowsPayloadAndKeyEscapedAsDlqShowDoes) {
  EXPECT_EQ(DeadLetterJson(Letter()),
            R"({"id":7,"stage":"ingest","topic":"PointOfSale","partition":2,"offset":41,)"
            R"("first_seen_at":"2024-02-03T10:00:00Z","replayed_at":null,)"
            R"("reasons":["json.syntax","encoding.utf8"],"payload_purged_at":null,)"
            R"("replayed_as":null,"details":"not valid JSON","bytes":16,"key":"S0\\x001",)"
            R"("payload":"{\"a\": \"<b>\\x01\\xff\"}\n\t","payload_shown_bytes":16,)"
            R"("payload_truncated":false})");
}

TEST(DeadLetterJson, CutsALongPayloadOnACharacterBoundary) {
  ops::DeadLetterRow letter = Letter();
  letter.payload = std::string(kMaxShownPayloadBytes - 1, 'a') + "é" + "ENDMARK";
  letter.payload_bytes = static_cast<std::int64_t>(letter.payload.size());
  const std::string json = DeadLetterJson(letter);
  EXPECT_NE(json.find("\"payload_shown_bytes\":" + std::to_string(kMaxShownPayloadBytes - 1)),
            std::string::npos);
  EXPECT_NE(json.find("\"payload_truncated\":true"), std::string::npos);
  EXPECT_EQ(json.find("ENDMARK"), std::string::npos);
}

TEST(DeadLetterJson, SaysWhenThePayloadWasPurged) {
  ops::DeadLetterRow letter = Letter();
  letter.payload.clear();
  letter.key.clear();
  letter.payload_purged_at = "2024-05-01T00:00:00Z";
  letter.purged_payload_bytes = 17;
  const std::string json = DeadLetterJson(letter);
  EXPECT_NE(json.find(R"("payload_purged_at":"2024-05-01T00:00:00Z")"), std::string::npos);
  EXPECT_NE(json.find(R"("bytes":17,"key":null,"payload":null)"), std::string::npos);
}

TEST(DeadLetterListJson, ListsInTheOrderGivenWithoutPayloads) {
  ops::DeadLetterRow newer = Letter();
  newer.id = 8;
  const std::string json = DeadLetterListJson({newer, Letter()}, 2);
  EXPECT_EQ(json.rfind(R"({"limit":2,"dead_letters":[{"id":8,)", 0), 0u) << json;
  EXPECT_NE(json.find(R"(},{"id":7,)"), std::string::npos);
  EXPECT_EQ(json.find("payload\""), std::string::npos);
}

}  // namespace
}  // namespace posflow::serve
