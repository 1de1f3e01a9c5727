#pragma once

// Reading a topic back in the tests, independently of posflow's own consumer: a plain
// librdkafka consumer that assigns every partition from its beginning (no group coordination,
// nothing committed).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace posflow::testing {

struct ConsumedMessage {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
};

// Reads `topic` (`partitions` partitions) until `expected` messages arrived or `deadline`
// passed, then `linger` longer to catch any message too many. A consumer error is a test
// failure. Messages up to 4 MiB.
std::vector<ConsumedMessage> ReadTopicFromBeginning(const std::string& brokers,
                                                    const std::string& topic, int partitions,
                                                    std::size_t expected,
                                                    std::chrono::seconds deadline,
                                                    std::chrono::seconds linger);

}  // namespace posflow::testing
