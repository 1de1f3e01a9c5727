#include "cli/offsets_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/common_options.h"
#include "pipeline/offsets_job.h"

namespace posflow::cli {
namespace {

struct OffsetsFlags {
  ConfigSources sources;
  bool topic_given = false;
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
  // Renaming every record of a topic is not something a default may choose.
  if (!flags.topic_given) {
    return ReportFailure("offsets archive",
                         Status::InvalidArgument("say which topic: --topic NAME"));
  }
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("offsets archive", config.status());
  const std::vector<std::string> topics = config->Topics();
  if (topics.size() != 1) {
    return ReportFailure("offsets archive",
                         Status::InvalidArgument("archive one topic at a time"));
  }
  const std::string& topic = topics.front();
  auto archived = pipeline::ArchiveTopicOffsets(*config, topic);
  if (!archived.ok()) return ReportFailure("offsets archive", archived.status());
  std::cout << fmt::format(
                   "offsets archive: the records of {} are now under {} ({} stored offsets, {} "
                   "transactions seen, {} duplicates, {} dead letters); ingest will read {} from "
                   "its beginning",
                   topic, archived->archived_as, archived->offsets, archived->seen,
                   archived->duplicates, archived->dead_letters, topic)
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
  archive->callback([flags, archive, run] {
    flags->topic_given = archive->count("--topic") > 0;
    *run = [flags] { return Archive(*flags); };
  });
}

}  // namespace posflow::cli
