#include "pipeline/run_job.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "pg/connection.h"
#include "pipeline/one_hop_store.h"
#include "staging/staging_factory.h"

namespace posflow::pipeline {

Result<RunStats> RunPipeline(const Config& config, const IngestOptions& ingest, EtlOptions etl,
                             RunPath path, const std::atomic<bool>& stop, ops::Metrics* metrics) {
  if (path == RunPath::kOneHop && staging::UsesMongoStaging(config)) {
    spdlog::info("run: MongoDB staging: loading via staging");
    path = RunPath::kViaStaging;
  }
  std::atomic<bool> stop_ingest{false};
  std::atomic<bool> stop_etl{false};
  std::atomic<bool> ingest_done{false};
  std::atomic<bool> etl_done{false};
  std::atomic<bool> upstream_done{false};
  etl.follow = true;
  etl.upstream_done = &upstream_done;

  EtlStats one_hop_loaded;  // written by the ingest job's writer thread; read after it is joined
  std::optional<Result<IngestStats>> ingest_result;
  std::optional<Result<EtlStats>> etl_result;
  std::thread ingest_thread([&] {
    if (path == RunPath::kOneHop) {
      ingest_result.emplace(RunIngestInto(
          config, ingest, stop_ingest, metrics,
          std::make_unique<OneHopStore>(pg::OptionsFromConfig(config), etl.load, metrics,
                                        &one_hop_loaded)));
    } else {
      ingest_result.emplace(RunIngest(config, ingest, stop_ingest, metrics));
    }
    ingest_done = true;
  });
  std::thread etl_thread([&] {
    etl_result.emplace(RunEtl(config, etl, stop_etl, metrics));
    etl_done = true;
  });

  // The supervisor: forwards a stop, and stops one side when the other ends.
  while (!(ingest_done && etl_done)) {
    if (stop) {
      stop_ingest = true;
      stop_etl = true;
    }
    if (ingest_done) {
      // A clean idle exit lets the ETL drain staging first; a failure stops it now.
      if (ingest_result->ok()) {
        upstream_done = true;
      } else {
        stop_etl = true;
      }
    }
    if (etl_done) stop_ingest = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ingest_thread.join();
  etl_thread.join();

  if (!ingest_result->ok()) return ingest_result->status().WithContext("ingest");
  if (!etl_result->ok()) return etl_result->status().WithContext("etl");
  RunStats stats{path, **ingest_result, **etl_result};
  stats.etl.batches += one_hop_loaded.batches;
  stats.etl.transactions += one_hop_loaded.transactions;
  stats.etl.lines += one_hop_loaded.lines;
  stats.etl.inferred_members += one_hop_loaded.inferred_members;
  stats.etl.partitions_created += one_hop_loaded.partitions_created;
  stats.etl.quarantined += one_hop_loaded.quarantined;
  return stats;
}

}  // namespace posflow::pipeline
