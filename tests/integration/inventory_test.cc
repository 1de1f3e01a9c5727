// `posflow inventory show|restock|adjust` (warehouse/inventory.h) against the real PostgreSQL of
// the local stack, on the hand-made warehouse of report_fixture.h: each change moves on_hand
// and records one movement in one transaction; concurrent changes from several processes and
// ETL-style sale decrements never lose an update; Σ movement = on_hand per pair throughout.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/child_process.h"
#include "integration/report_fixture.h"
#include "pg/connection.h"

namespace posflow::testing {
namespace {

class InventoryTest : public ReportFixture {
 protected:
  void SetUp() override {
    ReportFixture::SetUp();
    if (IsSkipped() || HasFailure()) return;
    Exec(HandMadeWarehouseSql());
    // The fixture's on_hand is its opening stock (its `initial` movements). Sales are the line
    // facts themselves (inventory.movement is recorded movements + one sale per line fact), and
    // the fixture's facts are report history that never went through this inventory: without
    // them, on_hand = Σ movements holds from the start.
    Exec("delete from dw.fact_sales_line; delete from dw.fact_transaction;");
  }

  std::string Quantity(const std::string& store, const std::string& product) {
    return Rows("select quantity, reorder_point from inventory.on_hand "
                "where store_id = $1 and product_id = $2",
                {store, product});
  }

  // Pairs whose on_hand quantity is not the sum of their movements ("" when there is none).
  std::string PairsOutOfBalance() {
    return Rows(
        "select h.store_id, h.product_id, h.quantity, m.moved from inventory.on_hand h "
        "left join (select store_id, product_id, sum(quantity_change) as moved "
        "           from inventory.movement group by 1, 2) m using (store_id, product_id) "
        "where m.moved is distinct from h.quantity "
        "union all "
        "select m.store_id, m.product_id, null, sum(m.quantity_change) from inventory.movement m "
        "where not exists (select 1 from inventory.on_hand h where h.store_id = m.store_id "
        "                  and h.product_id = m.product_id) group by 1, 2");
  }

  std::string MovementCount() { return Rows("select count(*) from inventory.movement"); }
};

TEST_F(InventoryTest, RestockAddsUnitsAndRecordsOneRestockMovement) {
  const PosflowRun run = Posflow({"inventory", "restock", "--store", "S001", "--product",
                                  "P0001", "--quantity", "20", "--note", "truck 12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "inventory restock S001 P0001: 5 -> 25 (+20), movement 6\n");
  EXPECT_EQ(Quantity("S001", "P0001"), "25|10\n");
  EXPECT_EQ(Rows("select kind, quantity_change, note, source_transaction_id is null "
                 "from inventory.movement where movement_id = 6"),
            "restock|20|truck 12|t\n");
  EXPECT_EQ(PairsOutOfBalance(), "");
}

TEST_F(InventoryTest, AdjustByAChangeOrToACountRecordsTheDifferenceAsAnAdjustment) {
  PosflowRun run = Posflow({"inventory", "adjust", "--store", "S002", "--product", "P0004",
                            "--quantity-change", "-2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "inventory adjust S002 P0004: -3 -> -5 (-2), movement 6\n");
  run = Posflow({"inventory", "adjust", "--store", "S002", "--product", "P0004", "--count", "7",
                 "--note", "shelf count"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "inventory adjust S002 P0004: -5 -> 7 (+12), movement 7\n");
  // A count that finds what the system says is still recorded, as a zero change.
  run = Posflow({"inventory", "adjust", "--store", "S002", "--product", "P0004", "--count", "7"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "inventory adjust S002 P0004: 7 -> 7 (+0), movement 8\n");
  EXPECT_EQ(Quantity("S002", "P0004"), "7|5\n");
  EXPECT_EQ(Rows("select kind, quantity_change, coalesce(note, '<none>') from inventory.movement "
                 "where movement_id > 5 order by movement_id"),
            "adjustment|-2|<none>\n"
            "adjustment|12|count 7: shelf count\n"
            "adjustment|0|count 7\n");
  EXPECT_EQ(PairsOutOfBalance(), "");
}

TEST_F(InventoryTest, RestockOfAKnownStoreAndProductWithoutARowCreatesIt) {
  const PosflowRun run = Posflow({"inventory", "restock", "--store", "S003", "--product",
                                  "P0004", "--quantity", "12"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "inventory restock S003 P0004: 0 -> 12 (+12), movement 6 (new inventory row, "
            "reorder point 0)\n");
  EXPECT_EQ(Quantity("S003", "P0004"), "12|0\n");
  EXPECT_EQ(Rows("select kind, quantity_change from inventory.movement "
                 "where store_id = 'S003' and product_id = 'P0004'"),
            "restock|12\n");
  EXPECT_EQ(PairsOutOfBalance(), "");
}

TEST_F(InventoryTest, BadChangesExitTwoWithOneLineAndChangeNothing) {
  struct Case {
    std::vector<std::string> arguments;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"restock", "--store", "S999", "--product", "P0001", "--quantity", "1"},
       "posflow inventory restock: error: unknown store S999: dw.dim_store has 3 stores, "
       "S001 .. S003\n"},
      {{"restock", "--store", "S001", "--product", "P0999", "--quantity", "1"},
       "posflow inventory restock: error: unknown product P0999: dw.dim_product has 4 "
       "products, P0001 .. P0004\n"},
      {{"adjust", "--store", "S003", "--product", "P0001", "--count", "4"},
       "posflow inventory adjust: error: S003 has no stock of P0001 (no inventory.on_hand row) "
       "to adjust; a restock creates it\n"},
      {{"adjust", "--store", "S999", "--product", "P0001", "--quantity-change", "4"},
       "posflow inventory adjust: error: unknown store S999: dw.dim_store has 3 stores, "
       "S001 .. S003\n"},
      {{"restock", "--store", "S001", "--product", "P0001", "--quantity", "0"},
       "posflow inventory restock: error: a restock adds units: --quantity must be > 0, not 0\n"},
      {{"restock", "--store", "S001", "--product", "P0001", "--quantity", "-4"},
       "posflow inventory restock: error: a restock adds units: --quantity must be > 0, not -4\n"},
      {{"adjust", "--store", "S001", "--product", "P0001"},
       "posflow inventory adjust: error: say how: --quantity-change N or --count N\n"},
      {{"adjust", "--store", "S001", "--product", "P0001", "--quantity-change", "0"},
       "posflow inventory adjust: error: --quantity-change 0 changes nothing\n"},
      {{"adjust", "--store", "S001", "--product", "P0001", "--count", "-1"},
       "posflow inventory adjust: error: a count is what is on the shelf: --count must be >= 0, "
       "not -1\n"},
      {{"restock", "--store", "S001", "--product", "P0001", "--quantity", "2147483643"},
       "posflow inventory restock: error: S001/P0001 would hold 2147483648 units, beyond what "
       "inventory.on_hand can count\n"},
      {{"show", "--product", "P0999"},
       "posflow inventory show: error: unknown product P0999: dw.dim_product has 4 products, "
       "P0001 .. P0004\n"},
  };
  const std::string movements = MovementCount();
  const std::string stock = Rows("select * from inventory.on_hand order by 1, 2");
  for (const Case& bad : cases) {
    std::vector<std::string> arguments = {"inventory"};
    arguments.insert(arguments.end(), bad.arguments.begin(), bad.arguments.end());
    const PosflowRun run = Posflow(arguments);
    EXPECT_EQ(run.exit_code, 2) << bad.error;
    EXPECT_EQ(run.err, bad.error);
    EXPECT_EQ(run.out, "");
  }
  // Both ways of adjusting at once: CLI11's own one-line usage error.
  const PosflowRun both = Posflow({"inventory", "adjust", "--store", "S001", "--product",
                                   "P0001", "--count", "3", "--quantity-change", "1"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(std::count(both.err.begin(), both.err.end(), '\n'), 1) << both.err;
  EXPECT_EQ(MovementCount(), movements);
  EXPECT_EQ(Rows("select * from inventory.on_hand order by 1, 2"), stock);
}

TEST_F(InventoryTest, ShowListsStockWithStatusAsTableCsvAndJson) {
  Exec("update inventory.on_hand set updated_at = '2024-03-01 12:00:00+00'");
  PosflowRun run = Posflow({"inventory", "show", "--store", "S002"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "store_id  store                  product_id  product       quantity  reorder_point  "
            "status    updated_at\n"
            "--------  ---------------------  ----------  ------------  --------  -------------  "
            "--------  --------------------\n"
            "S002      Boreal \"Quai\", Québec  P0001       Coffee, 1 kg         0              2  "
            "out       2024-03-01T12:00:00Z\n"
            "S002      Boreal \"Quai\", Québec  P0004       Apples              -3              5  "
            "oversold  2024-03-01T12:00:00Z\n");
  run = Posflow({"inventory", "show", "--format", "csv"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "store_id,store,product_id,product,quantity,reorder_point,status,updated_at\r\n"
            "S001,Boreal Downtown,P0001,\"Coffee, 1 kg\",5,10,low,2024-03-01T12:00:00Z\r\n"
            "S001,Boreal Downtown,P0002,Milk 2L,50,10,ok,2024-03-01T12:00:00Z\r\n"
            "S002,\"Boreal \"\"Quai\"\", Québec\",P0001,\"Coffee, 1 kg\",0,2,out,"
            "2024-03-01T12:00:00Z\r\n"
            "S002,\"Boreal \"\"Quai\"\", Québec\",P0004,Apples,-3,5,oversold,"
            "2024-03-01T12:00:00Z\r\n"
            "S003,Boreal North,P0002,Milk 2L,10,10,ok,2024-03-01T12:00:00Z\r\n");
  run = Posflow({"inventory", "show", "--product", "P0002", "--store", "S003", "--format",
                 "json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "[\n"
            "  {\"store_id\": \"S003\", \"store\": \"Boreal North\", \"product_id\": \"P0002\", "
            "\"product\": \"Milk 2L\", \"quantity\": 10, \"reorder_point\": 10, "
            "\"status\": \"ok\", \"updated_at\": \"2024-03-01T12:00:00Z\"}\n"
            "]\n");
}

// Regression guard for lost updates: restocks from several processes at once, on an existing
// pair and on a pair that none of them has yet (all race to create it), while another
// connection decrements the first pair the way the ETL does. Every unit must be accounted for.
TEST_F(InventoryTest, ConcurrentRestocksFromSeveralProcessesAndEtlDecrementsAddUpExactly) {
  constexpr int kProcesses = 6;
  constexpr int kRoundsPerProcess = 8;
  constexpr int kSales = 60;
  const std::string log_dir = std::filesystem::temp_directory_path() / UniqueName("inventory");
  std::filesystem::create_directories(log_dir);

  std::vector<std::unique_ptr<ChildProcess>> processes;
  for (int process = 0; process < kProcesses; ++process) {
    const std::string restock = std::string(POSFLOW_BINARY) + " inventory restock --db " +
                                ShellQuote(config_.db) + " --store ";
    const std::string script =
        "for round in $(seq " + std::to_string(kRoundsPerProcess) + "); do " + restock +
        "S001 --product P0001 --quantity " + std::to_string(process + 1) + " || exit 1; " +
        restock + "S003 --product P0001 --quantity 1 --note p" + std::to_string(process) +
        " || exit 1; done";
    processes.push_back(std::make_unique<ChildProcess>(
        "/bin/sh", std::vector<std::string>{"-c", script},
        log_dir + "/process" + std::to_string(process) + ".log"));
  }

  // What the ETL writes for a sale (warehouse_loader.cc): its line fact (the sale movement of
  // the view inventory.movement) and the on-hand decrement, one unit per transaction.
  std::atomic<int> sales_failed{0};
  std::thread seller([&] {
    auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
    if (!connection.ok()) {
      sales_failed = kSales;
      return;
    }
    for (int sale = 0; sale < kSales; ++sale) {
      Status status = connection->Execute(
          "begin;"
          "insert into dw.fact_sales_line (transaction_id, line_number, sale_date, date_key, "
          "  time_key, store_key, customer_key, payment_type_key, product_key, quantity, "
          "  unit_price, line_total, tax_share, sold_at) values ('T-sale-" +
          std::to_string(sale) +
          "', 1, '2024-02-10', 20240210, 1200, 2, 0, 1, 1, 1, 12.50, 12.50, 0, "
          "  '2024-02-10 12:00-05');"
          "insert into inventory.on_hand as o (store_id, product_id, quantity, reorder_point) "
          "values ('S001', 'P0001', -1, 0) on conflict (store_id, product_id) do update "
          "set quantity = o.quantity + excluded.quantity, updated_at = now();"
          "commit;");
      if (!status.ok()) {
        (void)connection->Execute("rollback");
        ++sales_failed;
      }
    }
  });

  for (int process = 0; process < kProcesses; ++process) {
    EXPECT_EQ(processes[static_cast<std::size_t>(process)]->Wait(std::chrono::minutes(3)), 0)
        << "restock process " << process << ": see " << log_dir;
  }
  seller.join();
  EXPECT_EQ(sales_failed.load(), 0);

  // 5 at the start + 8 rounds x (1 + 2 + ... + 6) restocked - 60 sold.
  EXPECT_EQ(Quantity("S001", "P0001"),
            std::to_string(5 + kRoundsPerProcess * (kProcesses * (kProcesses + 1) / 2) - kSales) +
                "|10\n");
  EXPECT_EQ(Quantity("S003", "P0001"), std::to_string(kProcesses * kRoundsPerProcess) + "|0\n");
  EXPECT_EQ(Rows("select kind, count(*), sum(quantity_change) from inventory.movement "
                 "where movement_id > 5 or movement_id is null group by kind order by kind"),
            "restock|" + std::to_string(2 * kProcesses * kRoundsPerProcess) + "|" +
                std::to_string(kRoundsPerProcess * (kProcesses * (kProcesses + 1) / 2) +
                               kProcesses * kRoundsPerProcess) +
                "\nsale|" + std::to_string(kSales) + "|-" + std::to_string(kSales) + "\n");
  EXPECT_EQ(PairsOutOfBalance(), "");
  if (!HasFailure()) std::filesystem::remove_all(log_dir);
}

}  // namespace
}  // namespace posflow::testing
