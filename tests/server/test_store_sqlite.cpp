// What only the SQLite store promises: the file, WAL, durability across reopening, and several
// processes starting on one file at once.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "server/store/sqlite_store.hpp"
#include "store_test_support.hpp"

namespace kjq::test {
namespace {

// Asks the file itself, through a connection of our own.
std::string query_text(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::string value;
  auto collect = [](void* out, int, char** values, char**) {
    *static_cast<std::string*>(out) = values[0] ? values[0] : "";
    return 0;
  };
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), collect, &value, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
  return value;
}

TEST(StoreSqlite, CreatesTheFileInWalModeWithTheSchema) {
  TempDir dir;
  const auto file = dir.path() / "jobs.db";
  auto store = server::open_store("sqlite:" + file.string());
  store->submit({new_job("a")});
  EXPECT_TRUE(std::filesystem::exists(file));
  EXPECT_EQ(query_text(file, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(file, "SELECT COUNT(*) FROM schema_migrations"), "5");
  EXPECT_EQ(query_text(file, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'jobs_%'"), "8");
  EXPECT_EQ(query_text(file, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'writebacks_pending'"),
            "1");
}

TEST(StoreSqlite, RecordsSurviveReopeningTheFile) {
  TempDir dir;
  const auto url = "sqlite:" + (dir.path() / "jobs.db").string();
  {
    auto store = server::open_store(url);
    store->submit({new_job("kept", "q")});
    store->claim("q", 1, 1, "r", "kjq", 2000);
  }
  auto reopened = server::open_store(url);
  const auto r = reopened->get("kept");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->state, server::JobState::Submitted);
  EXPECT_EQ(r->kube_name, "kjq-kept");
  EXPECT_EQ(reopened->schema_version(), 5);
}

TEST(StoreSqlite, ProcessesStartingTogetherMigrateOnce) {
  TempDir dir;
  const auto file = dir.path() / "jobs.db";
  std::vector<std::unique_ptr<server::JobStore>> stores(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < stores.size(); ++i) {
    threads.emplace_back([&, i] { stores[i] = server::open_store("sqlite:" + file.string()); });
  }
  for (auto& t : threads) t.join();
  for (const auto& store : stores) {
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->schema_version(), 5);
  }
  EXPECT_EQ(query_text(file, "SELECT COUNT(*) FROM schema_migrations"), "5");
}

TEST(StoreSqlite, ANewFileHasNoSchemaUntilMigrated) {
  TempDir dir;
  server::SqliteStore store((dir.path() / "jobs.db").string());
  EXPECT_EQ(store.schema_version(), 0);
  store.migrate();
  EXPECT_EQ(store.schema_version(), 5);
}

}  // namespace
}  // namespace kjq::test
