#pragma once

// `posflow check`: reconciles every stage against the others and prints a verdict.
//
// Checks (each OK or DIFFERENCE, with the figures on both sides):
//   kafka-offsets   per topic partition: the offsets recorded as staged, duplicate or dead letter
//                   form one gap-free range ending at the stored next offset; with the broker
//                   reachable, nothing before it that Kafka still holds was skipped (lag shown)
//   staging         every transaction seen = staged and waiting + loaded into the facts
//   watermark       ops.etl_watermark's loaded count = receipts in the facts
//   facts           no receipt twice; per receipt: lines, Σ quantity and Σ tax_share agree
//   aggregates      each aggregate = the same sums over the facts, key by key
//   inventory       on-hand = Σ movements per store x product, where the movements are the
//                   recorded ones (opening stock, restocks, adjustments) and one sale or return
//                   per line fact (the view inventory.movement)
//   manifest        (with manifests) produced = loaded + staged + dead letters + duplicates,
//                   counts, cents and quantities per store x product, dead letters per code
//
// The manifest check assumes the database holds exactly the streams of the given manifests.

#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace posflow::pipeline {

struct CheckOptions {
  // Producer manifests (`posflow produce --manifest`) of everything sent; empty: no manifest
  // check.
  std::vector<std::string> manifest_paths;
  // Ask the broker for the partitions' watermarks (lag, skipped messages). Default true; an
  // unreachable broker is reported, not counted as a difference.
  bool query_kafka = true;
};

struct CheckItem {
  std::string name;    // "staging", "facts", ...
  bool ok = true;
  std::string detail;  // the figures compared, one line
};

struct CheckReport {
  std::vector<CheckItem> items;
  bool ok() const;
};

// Failure: the database cannot be read (Unavailable, NotFound), a manifest cannot be read
// (InvalidArgument); a difference is not a failure (see CheckReport::ok).
Result<CheckReport> RunCheck(const Config& config, const CheckOptions& options);

}  // namespace posflow::pipeline
