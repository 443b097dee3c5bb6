// JobState names and classes (server/store/job_record.hpp).
#include <gtest/gtest.h>

#include "server/store/job_record.hpp"
#include "server/store/migrations.hpp"

namespace kjq::server {
namespace {

TEST(StoreJobRecord, EveryStateRoundTripsThroughItsName) {
  const std::vector<std::pair<JobState, std::string>> all{
      {JobState::Queued, "Queued"},       {JobState::Submitted, "Submitted"}, {JobState::Scheduled, "Scheduled"},
      {JobState::Running, "Running"},     {JobState::Succeeded, "Succeeded"}, {JobState::Failed, "Failed"},
      {JobState::Cancelled, "Cancelled"},
  };
  for (const auto& [state, name] : all) {
    EXPECT_EQ(state_name(state), name);
    EXPECT_EQ(parse_state(name), state);
  }
}

TEST(StoreJobRecord, ParseStateAcceptsOnlyExactNames) {
  EXPECT_EQ(parse_state("queued"), std::nullopt);
  EXPECT_EQ(parse_state(" Queued"), std::nullopt);
  EXPECT_EQ(parse_state(""), std::nullopt);
  EXPECT_EQ(parse_state("Pending"), std::nullopt);
}

TEST(StoreJobRecord, FinalAndActiveStates) {
  EXPECT_FALSE(is_final(JobState::Queued));
  EXPECT_FALSE(is_active(JobState::Queued));
  for (auto s : {JobState::Submitted, JobState::Scheduled, JobState::Running}) {
    EXPECT_TRUE(is_active(s));
    EXPECT_FALSE(is_final(s));
  }
  for (auto s : {JobState::Succeeded, JobState::Failed, JobState::Cancelled}) {
    EXPECT_TRUE(is_final(s));
    EXPECT_FALSE(is_active(s));
  }
}

TEST(StoreMigrations, VersionsStartAtOneWithoutGapsAndCarryBothDialects) {
  const auto& all = migrations();
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(all[i].description.empty());
    EXPECT_FALSE(all[i].sqlite_sql.empty());
    EXPECT_FALSE(all[i].postgres_sql.empty());
  }
  EXPECT_EQ(latest_schema_version(), all.back().version);
}

}  // namespace
}  // namespace kjq::server
