#pragma once

// The JSON of /api/dead-letters and /api/dead-letters/<id>: what `posflow dlq list` and
// `posflow dlq show` print, for the browser. Raw bytes (payload, key) are never sent as they
// are: they go through EscapeControlBytes (common/text.h), as `dlq show` prints them, so the
// page shows them as text and no byte can act on it. Pure functions.

#include <cstddef>
#include <string>
#include <vector>

#include "ops/dead_letters.h"

namespace posflow::serve {

// The most payload bytes a detail shows (the rest: `posflow dlq show ID --raw`).
inline constexpr std::size_t kMaxShownPayloadBytes = 64 * 1024;

// {"dead_letters": [{id, stage, topic, partition, offset, bytes, reasons, first_seen_at,
//  replayed_at, payload_purged_at}, ...], "limit": N}, in the order given.
std::string DeadLetterListJson(const std::vector<ops::DeadLetterRow>& letters, std::int64_t limit);

// {id, stage, topic, partition, offset, key, first_seen_at, replayed_at, replayed_as, reasons,
//  details, bytes, payload, payload_shown_bytes, payload_truncated, payload_purged_at,
//  purged_payload_bytes}: `key` and `payload` escaped (payload: its first kMaxShownPayloadBytes,
//  cut on a character boundary), null when purged.
std::string DeadLetterJson(const ops::DeadLetterRow& letter);

}  // namespace posflow::serve
