#include <gtest/gtest.h>

#include "values/merge.hpp"

using nlohmann::json;
using namespace kjq::values;

TEST(MergeOverwrite, MapsMergeListsAndScalarsReplace) {
  json dst = json::parse(R"({"m":{"a":1,"b":{"c":2}},"l":[1,2],"s":"x","keep":true})");
  merge_overwrite(dst, json::parse(R"({"m":{"b":{"d":3}},"l":[],"s":"","new":null})"));
  EXPECT_EQ(dst, json::parse(R"({"m":{"a":1,"b":{"c":2,"d":3}},"l":[],"s":"","keep":true,"new":null})"));
}

TEST(MergeOverwrite, NullAndZeroValuesOverwrite) {
  json dst = json::parse(R"({"a":4,"b":"x","c":{"k":1}})");
  merge_overwrite(dst, json::parse(R"({"a":0,"b":null,"c":"scalar"})"));
  EXPECT_EQ(dst, json::parse(R"({"a":0,"b":null,"c":"scalar"})"));
  // A map source over a non-map destination replaces it (mergo >= 1.0, Helm >= 3.16).
  json d2 = json::parse(R"({"a":"text"})");
  merge_overwrite(d2, json::parse(R"({"a":{"k":1}})"));
  EXPECT_EQ(d2, json::parse(R"({"a":{"k":1}})"));
  // An empty source map changes nothing.
  json d3 = json::parse(R"({"a":{"k":1}})");
  merge_overwrite(d3, json::parse(R"({"a":{}})"));
  EXPECT_EQ(d3, json::parse(R"({"a":{"k":1}})"));
}

TEST(CoalesceValues, NullDeletesOnlyKeysTheDefaultsHave) {
  json defaults = json::parse(
      R"({"kj":{"resources":{"r":1},"ttl":60},"workers":{"default":{"taskQueues":"default","enabled":true}}})");
  json user = json::parse(R"({"kj":{"resources":null},"workers":{"default":{"taskQueues":null},"new":{"x":null}}})");
  EXPECT_EQ(coalesce_values(defaults, user),
            json::parse(R"({"kj":{"ttl":60},"workers":{"default":{"enabled":true},"new":{"x":null}}})"));
}

TEST(CoalesceValues, UserScalarOverDefaultMapWins) {
  json defaults = json::parse(R"({"a":{"b":1},"c":[1]})");
  EXPECT_EQ(coalesce_values(defaults, json::parse(R"({"a":"x","c":{"k":1}})")),
            json::parse(R"({"a":"x","c":{"k":1}})"));
}

TEST(Truthiness, FollowsGoTemplates) {
  for (const auto& falsy : {json(false), json(0), json(0.0), json(), json(""), json::object(), json::array()}) {
    EXPECT_FALSE(is_truthy(falsy)) << falsy.dump();
  }
  for (const auto& truthy : {json(true), json(1), json(-0.5), json("false"), json::array({0}), json{{"a", 0}}}) {
    EXPECT_TRUE(is_truthy(truthy)) << truthy.dump();
  }
}
