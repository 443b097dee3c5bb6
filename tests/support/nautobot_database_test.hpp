#pragma once
// The fixture of the tests that use Nautobot's tables: a new database holding them on the shared
// throwaway PostgreSQL server, per test (skipped where PostgreSQL is not installed, failed when CI
// requires it). A derived SetUp calls this one first and returns when it skipped or failed.
#include <gtest/gtest.h>

#include <string>

#include "support/nautobot_schema.hpp"
#include "support/postgres_server.hpp"

namespace kjq::test {

class NautobotDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KJQ_REQUIRE_POSTGRES();
    server_ = &PostgresServer::shared();
    url_ = create_nautobot_database(*server_);
    db_ = database_name(url_);
  }
  // True when SetUp skipped the test (no PostgreSQL) or failed it: a derived SetUp stops there.
  bool unavailable() const { return IsSkipped() || HasFailure(); }

  PostgresServer* server_ = nullptr;
  std::string url_, db_;  // the database's URL and name
};

}  // namespace kjq::test
