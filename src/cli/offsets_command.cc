#include "cli/offsets_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/common_options.h"
#include "pipeline/offsets_job.h"

namespace posflow::cli {
namespace {

struct OffsetsFlags {
  ConfigSources sources;
  std::string topic;
};

int List(const OffsetsFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("offsets list", config.status());
  auto offsets = pipeline::ListStoredOffsets(*config);
  if (!offsets.ok()) return ReportFailure("offsets list", offsets.status());
  std::cout << "group\ttopic\tpartition\tnext_offset\tupdated_at\n";
  for (const auto& offset : *offsets) {
    std::cout << fmt::format("{}\t{}\t{}\t{}\t{}\n", offset.consumer_group, offset.topic,
                             offset.partition, offset.next_offset, offset.updated_at);
  }
  return kExitOk;
}

int Archive(const OffsetsFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("offsets archive", config.status());
  auto archived = pipeline::ArchiveTopicOffsets(*config, flags.topic);
  if (!archived.ok()) return ReportFailure("offsets archive", archived.status());
  std::cout << fmt::format(
                   "offsets archive: the records of {} are now under {} ({} stored offsets, {} "
                   "transactions seen, {} duplicates, {} dead letters); ingest will read {} from "
                   "its beginning",
                   flags.topic, archived->archived_as, archived->offsets, archived->seen,
                   archived->duplicates, archived->dead_letters, flags.topic)
            << std::endl;
  return kExitOk;
}

}  // namespace

void RegisterOffsetsCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<OffsetsFlags>();
  CLI::App* offsets = app.add_subcommand(
      "offsets", "The Kafka offsets ingest stored (ops.kafka_offsets): list, archive.");
  offsets->require_subcommand(1);

  CLI::App* list = offsets->add_subcommand("list", "List the stored next offsets");
  AddCommonOptions(list, &flags->sources);
  list->callback([flags, run] { *run = [flags] { return List(*flags); }; });

  CLI::App* archive = offsets->add_subcommand(
      "archive",
      "After a topic was deleted and recreated under the same name: rename its old records "
      "(offsets, transactions seen, duplicates, dead letters) to '<topic>~archived-<time>' so "
      "that ingest reads the new topic from its beginning. Stop ingest first.");
  AddCommonOptions(archive, &flags->sources);
  archive->add_option("--topic", flags->topic, "the recreated topic")->required();
  archive->callback([flags, run] { *run = [flags] { return Archive(*flags); }; });
}

}  // namespace posflow::cli
