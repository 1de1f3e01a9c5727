#pragma once

// Fixture of the ingest tests: its own database (migrated) and topics (created by init), and
// helpers that run the real posflow binary to produce and to ingest.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "integration/child_process.h"
#include "integration/reconcile.h"
#include "integration/stack_fixture.h"
#include "sim/manifest.h"

namespace posflow::testing {

class IngestTest : public StackTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // `posflow produce` into this test's topic; returns its manifest.
  sim::Manifest Produce(const std::vector<std::string>& arguments);
  // Starts `posflow produce` in the background (with --manifest to ManifestPath(name)).
  std::unique_ptr<ChildProcess> StartProducer(const std::vector<std::string>& arguments,
                                              const std::string& name);
  sim::Manifest ReadManifestFile(const std::string& name);
  // Starts `posflow ingest` on this test's database, topic and group.
  std::unique_ptr<ChildProcess> StartIngest(const std::vector<std::string>& extra = {});
  // Starts `posflow run` (ingest + ETL) with the same defaults as StartIngest.
  std::unique_ptr<ChildProcess> StartRun(const std::vector<std::string>& extra = {});
  // Starts `posflow etl` on this test's database.
  std::unique_ptr<ChildProcess> StartEtl(const std::vector<std::string>& extra = {});
  // Runs `posflow ingest --exit-when-idle 2` to completion; returns its exit code.
  int IngestUntilIdle();

  // The command line of StartIngest (without the program).
  std::vector<std::string> StartIngestArguments(const std::vector<std::string>& extra);
  std::string ManifestPath(const std::string& name) const;
  std::string LogPath() const { return work_dir_ + "/posflow.log"; }
  // Prints the processes' log (on failure, for the reader of the CI output).
  void DumpLog() const;

  std::string work_dir_;
};

}  // namespace posflow::testing
