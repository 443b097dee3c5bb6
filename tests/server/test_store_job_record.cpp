// JobState names and classes (server/store/job_record.hpp).
#include <gtest/gtest.h>

#include "server/store/job_record.hpp"
#include "server/store/migrations.hpp"
#include "server/store/store_text.hpp"

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

TEST(StoreJobRecord, EveryOriginRoundTripsThroughItsName) {
  EXPECT_EQ(origin_name(JobOrigin::Kjq), "kjq");
  EXPECT_EQ(origin_name(JobOrigin::Nautobot), "nautobot");
  EXPECT_EQ(parse_origin("kjq"), JobOrigin::Kjq);
  EXPECT_EQ(parse_origin("nautobot"), JobOrigin::Nautobot);
  for (const char* bad : {"", "Kjq", "NAUTOBOT", " kjq", "nautobot ", "other"}) {
    EXPECT_EQ(parse_origin(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(JobRecord{}.origin, JobOrigin::Kjq);  // a record is kjq's own unless said otherwise
}

TEST(StoreText, AcceptsValidUtf8WithoutNulOnly) {
  EXPECT_TRUE(is_storable_text(""));
  EXPECT_TRUE(is_storable_text(R"({"a":"\u0000 'q' "d""})"));
  EXPECT_TRUE(is_storable_text("ünïcødé ✓ 🚀 \xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(is_storable_text(std::string("a\0b", 3)));
  EXPECT_FALSE(is_storable_text("\xff"));
  EXPECT_FALSE(is_storable_text("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_storable_text("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_storable_text("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_storable_text("\xe2\x9c"));          // cut short
}

TEST(StoreText, ReplacesWhatCannotBeStored) {
  EXPECT_EQ(storable_text("fine ✓"), "fine ✓");
  EXPECT_EQ(storable_text(std::string("a\0b", 3)),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(storable_text("x\xe2\x9c"), "x\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(is_storable_text(storable_text("\xff\xfe\xc0\xaf\xed\xa0\x80")));
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
