// Creates or deletes a Kafka topic for the manual benchmarks (the stack ships no Kafka CLI):
//   posflow_bench_topic create NAME PARTITIONS [BROKERS]
//   posflow_bench_topic delete NAME [BROKERS]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kafka/admin_client.h"

int main(int argc, char** argv) {
  using posflow::kafka::AdminClient;
  const std::string verb = argc > 1 ? argv[1] : "";
  const bool create = verb == "create" && argc >= 4;
  if (!create && !(verb == "delete" && argc >= 3)) {
    std::fprintf(stderr, "usage: %s create NAME PARTITIONS [BROKERS] | delete NAME [BROKERS]\n",
                 argv[0]);
    return 2;
  }
  posflow::Config config;
  const int brokers_index = create ? 4 : 3;
  if (argc > brokers_index) config.brokers = argv[brokers_index];
  auto admin = AdminClient::Create(config);
  if (!admin.ok()) {
    std::fprintf(stderr, "%s\n", admin.status().ToString().c_str());
    return 1;
  }
  const std::string name = argv[2];
  posflow::Status status;
  if (create) {
    auto outcome = admin->CreateTopics({{name, std::atoi(argv[3]), -1, {}}},
                                       std::chrono::seconds(15));
    status = outcome.status();
  } else {
    status = admin->DeleteTopics({name}, std::chrono::seconds(15));
  }
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("%s %s: ok\n", verb.c_str(), name.c_str());
  return 0;
}
