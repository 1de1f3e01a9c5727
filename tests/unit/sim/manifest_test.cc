#include "sim/manifest.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "sim/generator.h"
#include "sim/reference_data.h"

namespace posflow::sim {
namespace {

Manifest SampleManifest() {
  Generator generator(DefaultReferenceData(), GeneratorOptions{});
  ManifestBuilder builder;
  event::Transaction transaction;
  for (int i = 0; i < 500; ++i) {
    generator.Next(&transaction);
    builder.AddValid(transaction);
  }
  builder.AddDuplicate("S001");
  builder.AddBad("S002", "field.missing:items");
  builder.AddBad("S002", "json.syntax");
  builder.AddBad("S003", "json.syntax");
  Manifest manifest = builder.Build();
  manifest.seed = 42;
  manifest.sink = "file:a.ndjson";
  manifest.stopped_by = "count";
  manifest.price_changes.push_back({"P0042", "2026-01-02T08:00:00Z", 349, 379});
  return manifest;
}

TEST(ManifestBuilder, CountsMessagesByKindAndSumsValidOnes) {
  Generator generator(DefaultReferenceData(), GeneratorOptions{});
  ManifestBuilder builder;
  event::Transaction transaction;
  Cents total = 0;
  std::int64_t quantity = 0;
  std::int64_t s001 = 0;
  for (int i = 0; i < 1000; ++i) {
    generator.Next(&transaction);
    builder.AddValid(transaction);
    total += transaction.total_cents;
    for (const event::Line& line : transaction.lines) quantity += line.quantity;
    s001 += transaction.store.store_id == "S001" ? 1 : 0;
  }
  builder.AddDuplicate("S001");
  builder.AddBad("S001", "json.syntax");
  const Manifest manifest = builder.Build();
  EXPECT_EQ(manifest.messages, 1002);
  EXPECT_EQ(manifest.valid, 1000);
  EXPECT_EQ(manifest.duplicates, 1);
  EXPECT_EQ(manifest.bad_total, 1);
  EXPECT_EQ(manifest.bad.at("json.syntax"), 1);
  EXPECT_EQ(manifest.total_cents, total);
  EXPECT_EQ(manifest.subtotal_cents + manifest.tax_cents, manifest.total_cents);
  EXPECT_EQ(manifest.quantity, quantity);
  EXPECT_EQ(manifest.by_store.at("S001").transactions, s001);
  EXPECT_EQ(manifest.messages_by_key.at("S001"), s001 + 2);
  std::int64_t product_quantity = 0;
  for (const auto& [store, products] : manifest.by_store_product) {
    for (const auto& [product, units] : products) product_quantity += units;
  }
  EXPECT_EQ(product_quantity, quantity);
  EXPECT_LE(manifest.first_time, manifest.last_time);
  EXPECT_EQ(manifest.first_time.size(), 19u);
}

TEST(Manifest, JsonRoundTrips) {
  const Manifest manifest = SampleManifest();
  auto parsed = ParseManifest(manifest.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, manifest);
}

TEST(Manifest, EmptyManifestRoundTrips) {
  Manifest manifest = ManifestBuilder().Build();
  manifest.complete = false;
  manifest.stopped_by = "signal";
  auto parsed = ParseManifest(manifest.ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, manifest);
}

TEST(Manifest, WriteThenReadGivesTheSame) {
  const Manifest manifest = SampleManifest();
  const std::string path = ::testing::TempDir() + "manifest_test.json";
  ASSERT_TRUE(WriteManifest(manifest, path).ok());
  auto read = ReadManifest(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, manifest);
  std::remove(path.c_str());
}

TEST(Manifest, RejectsWhatIsNotAManifest) {
  EXPECT_EQ(ParseManifest("not json").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(ParseManifest("[1]").status().code(), Status::Code::kCorruption);
  EXPECT_EQ(ParseManifest("{\"format\":\"other/1\"}").status().code(),
            Status::Code::kCorruption);
  const std::string missing_count = "{\"format\":\"posflow-manifest/1\"}";
  auto parsed = ParseManifest(missing_count);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("messages"), std::string::npos);
  EXPECT_EQ(ReadManifest("/nonexistent/manifest.json").status().code(),
            Status::Code::kIoError);
}

}  // namespace
}  // namespace posflow::sim
