#include "cli/inventory_command.h"

#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/common_options.h"
#include "pg/connection.h"
#include "warehouse/inventory.h"
#include "warehouse/report_format.h"

namespace posflow::cli {
namespace {

struct InventoryFlags {
  ConfigSources sources;
  std::string store;
  std::string product;
  std::optional<std::string> show_store;
  std::optional<std::string> show_product;
  std::string format = "table";
  std::int64_t quantity = 0;
  std::optional<std::int64_t> quantity_change;
  std::optional<std::int64_t> count;
  std::string note;
};

Result<pg::Connection> Connect(const InventoryFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return config.status();
  return pg::Connection::Open(pg::OptionsFromConfig(*config));
}

int Show(const InventoryFlags& flags) {
  const std::optional<warehouse::OutputFormat> format =
      warehouse::ParseOutputFormat(flags.format);
  if (!format) {
    return ReportFailure("inventory show",
                         Status::InvalidArgument("--format must be table, csv or json"));
  }
  auto connection = Connect(flags);
  if (!connection.ok()) return ReportFailure("inventory show", connection.status());
  warehouse::StockFilter filter;
  filter.store_id = flags.show_store;
  filter.product_id = flags.show_product;
  auto table = warehouse::ShowStock(*connection, filter);
  if (!table.ok()) return ReportFailure("inventory show", table.status());
  std::cout << warehouse::FormatReport(*table, *format) << std::flush;
  return std::cout ? kExitOk : kExitFailure;
}

int Change(const std::string& command, const InventoryFlags& flags,
           warehouse::StockChange change) {
  change.store_id = flags.store;
  change.product_id = flags.product;
  change.note = flags.note;
  if (Status valid = warehouse::ValidateStockChange(change); !valid.ok()) {
    return ReportFailure(command, valid);
  }
  auto connection = Connect(flags);
  if (!connection.ok()) return ReportFailure(command, connection.status());
  auto result = warehouse::ApplyStockChange(*connection, change);
  if (!result.ok()) return ReportFailure(command, result.status());
  std::cout << command << " " << change.store_id << " " << change.product_id << ": "
            << result->quantity_before << " -> " << result->quantity_after << " ("
            << (result->quantity_change >= 0 ? "+" : "") << result->quantity_change
            << "), movement " << result->movement_id
            << (result->created ? " (new inventory row, reorder point 0)" : "") << std::endl;
  return kExitOk;
}

int Restock(const InventoryFlags& flags) {
  warehouse::StockChange change;
  change.kind = warehouse::StockChangeKind::kRestock;
  change.quantity = flags.quantity;
  return Change("inventory restock", flags, change);
}

int Adjust(const InventoryFlags& flags) {
  if (flags.quantity_change.has_value() == flags.count.has_value()) {
    return ReportFailure("inventory adjust",
                         Status::InvalidArgument("say how: --quantity-change N or --count N"));
  }
  warehouse::StockChange change;
  if (flags.count) {
    change.kind = warehouse::StockChangeKind::kSetToCount;
    change.quantity = *flags.count;
  } else {
    change.kind = warehouse::StockChangeKind::kAdjustBy;
    change.quantity = *flags.quantity_change;
  }
  return Change("inventory adjust", flags, change);
}

void AddPairOptions(CLI::App* command, InventoryFlags* flags) {
  command->add_option("--store", flags->store, "store id (S001)")->required();
  command->add_option("--product", flags->product, "product id (P0001)")->required();
  command->add_option("--note", flags->note, "why, kept with the movement (inventory.movement)");
}

}  // namespace

void RegisterInventoryCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<InventoryFlags>();
  CLI::App* inventory = app.add_subcommand(
      "inventory",
      "The live store inventory (inventory.on_hand): show it, record a restock or an "
      "adjustment. Each change is one transaction with its inventory.movement row.");
  inventory->require_subcommand(1);

  CLI::App* show = inventory->add_subcommand(
      "show", "On-hand quantity, reorder point and status (ok, low, out, oversold) per store "
              "and product");
  AddCommonOptions(show, &flags->sources);
  show->add_option("--store", flags->show_store, "only this store (S001)");
  show->add_option("--product", flags->show_product, "only this product (P0001)");
  show->add_option("--format", flags->format, "table, csv (RFC 4180) or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json"}));
  show->callback([flags, run] { *run = [flags] { return Show(*flags); }; });

  CLI::App* restock = inventory->add_subcommand(
      "restock",
      "Goods received: add --quantity units (movement kind restock). A known store and product "
      "without an inventory row get one (starting at 0, reorder point 0).");
  AddCommonOptions(restock, &flags->sources);
  AddPairOptions(restock, flags.get());
  restock->add_option("--quantity", flags->quantity, "units received (> 0)")->required();
  restock->callback([flags, run] { *run = [flags] { return Restock(*flags); }; });

  CLI::App* adjust = inventory->add_subcommand(
      "adjust",
      "Correct the stock (movement kind adjustment): by --quantity-change N units (signed), or "
      "to --count N units found on the shelf.");
  AddCommonOptions(adjust, &flags->sources);
  AddPairOptions(adjust, flags.get());
  CLI::Option* by = adjust->add_option("--quantity-change", flags->quantity_change,
                                       "add N units (negative: remove), N != 0");
  CLI::Option* count =
      adjust->add_option("--count", flags->count, "set the quantity to N units counted (>= 0)");
  by->excludes(count);
  adjust->callback([flags, run] { *run = [flags] { return Adjust(*flags); }; });
}

}  // namespace posflow::cli
