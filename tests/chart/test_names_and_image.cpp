#include <gtest/gtest.h>

#include "chart/image.hpp"
#include "chart/names.hpp"
#include "support/test_support.hpp"

using nlohmann::json;
using namespace kjq::chart;

namespace {
Release release_named(const std::string& name) {
  Release r;
  r.name = name;
  return r;
}
}  // namespace

TEST(Fullname, FollowsTheChartHelper) {
  EXPECT_EQ(fullname(json::object(), release_named("test")), "test-nautobot");
  EXPECT_EQ(fullname(json::object(), release_named("nautobot-prod")), "nautobot-prod");
  EXPECT_EQ(fullname({{"nameOverride", "nb"}}, release_named("nb-prod")), "nb-prod");
  EXPECT_EQ(fullname({{"fullnameOverride", "acme-nautobot-"}}, release_named("x")), "acme-nautobot");
  // Release names are lower-cased and runs of other characters collapse to one "-".
  EXPECT_EQ(fullname(json::object(), release_named("My_App..v2")), "my-app-v2-nautobot");
  // Truncated to 63 bytes, then one trailing "-" removed.
  std::string long_name(62, 'a');
  EXPECT_EQ(fullname(json::object(), release_named(long_name)), long_name.substr(0, 62));
  EXPECT_EQ(fullname(json::object(), release_named(long_name)).size(), 62u);
}

TEST(StandardLabels, AreStringsEvenForNumericReleaseNames) {
  Release r = release_named("123");
  r.chart_version = "3.1.1+build.7";
  auto labels = standard_labels(json::object(), r);
  EXPECT_EQ(labels["app.kubernetes.io/instance"], "123");
  EXPECT_EQ(labels["helm.sh/chart"], "nautobot-3.1.1_build.7");
  EXPECT_EQ(labels["app.kubernetes.io/managed-by"], "kjq");
  r.app_version = "";
  EXPECT_FALSE(standard_labels(json::object(), r).contains("app.kubernetes.io/version"));
}

TEST(ServiceAccountName, DependsOnCreateAndName) {
  Release r = release_named("test");
  EXPECT_EQ(service_account_name({{"serviceAccount", {{"create", true}, {"name", ""}}}}, r), "test-nautobot");
  EXPECT_EQ(service_account_name({{"serviceAccount", {{"create", false}, {"name", ""}}}}, r), "default");
  EXPECT_EQ(service_account_name({{"serviceAccount", {{"create", false}, {"name", "sa"}}}}, r), "sa");
}

TEST(ImageReference, RegistryDigestTagAndFallback) {
  json values = {{"nautobot", {{"image", {{"registry", "r.io"}, {"repository", "nb/nautobot"}, {"tag", "3.0"}}}}}};
  Release r;
  EXPECT_EQ(image_reference(values, r), "r.io/nb/nautobot:3.0");
  values["global"] = {{"imageRegistry", "mirror.local"}};
  EXPECT_EQ(image_reference(values, r), "mirror.local/nb/nautobot:3.0");
  values["nautobot"]["image"]["digest"] = "sha256:abc";
  EXPECT_EQ(image_reference(values, r), "mirror.local/nb/nautobot@sha256:abc");
  values.erase("global");
  values["nautobot"]["image"]["digest"] = "";
  values["nautobot"]["image"]["tag"] = "";
  r.app_version = "3.0.9";
  // The reference prints "r.io/nb/nautobot:" here (docs/differences.md #11); kjq uses the app version.
  EXPECT_EQ(image_reference(values, r), "r.io/nb/nautobot:3.0.9");
}

TEST(ImagePullSecrets, GlobalFirstDeduplicatedAlwaysStrings) {
  json values = {{"global", {{"imagePullSecrets", {{{"name", "a"}}, "b"}}}},
                 {"nautobot", {{"image", {{"pullSecrets", {"b", 123.0, "c"}}}}}}};
  EXPECT_EQ(image_pull_secrets(values), json::parse(R"([{"name":"a"},{"name":"b"},{"name":"123"},{"name":"c"}])"));
  EXPECT_EQ(image_pull_secrets(json::object()), json::array());
}

namespace {
std::vector<kjq::Diagnostic> name_problems(const std::string& yaml, const std::string& release = "test") {
  return name_override_problems(kjq::test::values_from_yaml(yaml), release_named(release));
}
}  // namespace

TEST(NameOverrides, ValidOnesAndWhatTruncationRepairsAreAccepted) {
  EXPECT_TRUE(name_problems("{}\n").empty());
  EXPECT_TRUE(name_problems("nameOverride: nb\nfullnameOverride: acme.nautobot\n").empty());
  // The chart cuts to 63 and drops one trailing "-": only what is still invalid is refused.
  EXPECT_TRUE(name_problems("fullnameOverride: " + std::string(70, 'a') + "\n").empty());
  EXPECT_TRUE(name_problems("fullnameOverride: " + std::string(62, 'a') + "-b\n").empty());
  EXPECT_TRUE(name_problems("fullnameOverride: acme-\n").empty());
  EXPECT_TRUE(name_problems("nameOverride: " + std::string(60, 'n') + "-\n").empty());
  // A capital letter is fine in a label; the object names come from fullnameOverride.
  EXPECT_TRUE(name_problems("nameOverride: MyNautobot\nfullnameOverride: acme\n").empty());
}

TEST(NameOverrides, InvalidOnesNameTheValuesPathAndTheResult) {
  auto full = name_problems("a: 1\nfullnameOverride: Acme_Nautobot\n");
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].path, "fullnameOverride");
  EXPECT_EQ(full[0].file, "values.yaml");
  EXPECT_EQ(full[0].line, 2);
  EXPECT_NE(full[0].message.find("\"Acme_Nautobot\""), std::string::npos) << full[0].message;
  EXPECT_NE(full[0].message.find("lowercase"), std::string::npos) << full[0].message;
  // Still invalid after truncation: the 63rd character is a "-" after another "-".
  auto cut = name_problems("fullnameOverride: " + std::string(61, 'a') + "--b\n");
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_NE(cut[0].message.find("once cut to 63"), std::string::npos) << cut[0].message;
  // A dot at the cut, and a name that is only a dash.
  EXPECT_EQ(name_problems("fullnameOverride: " + std::string(62, 'a') + ".b\n").size(), 1u);
  EXPECT_EQ(name_problems("fullnameOverride: \"-\"\n").size(), 1u);
  // nameOverride: the label, then (without fullnameOverride) <release>-<name>.
  auto label = name_problems("nameOverride: \"nb!\"\n");
  ASSERT_EQ(label.size(), 1u);  // said once, though both the label and the names are invalid
  EXPECT_EQ(label[0].path, "nameOverride");
  EXPECT_NE(label[0].message.find("app.kubernetes.io/name"), std::string::npos) << label[0].message;
  auto upper = name_problems("nameOverride: MyNautobot\n");
  ASSERT_EQ(upper.size(), 1u);
  EXPECT_EQ(upper[0].path, "nameOverride");
  EXPECT_NE(upper[0].message.find("\"test-MyNautobot\""), std::string::npos) << upper[0].message;
  // The release takes part: a 53-character release leaves 9 characters of the name, ending "--".
  auto release = std::string(53, 'r');
  EXPECT_EQ(name_problems("nameOverride: abcdefg--y\n", release).size(), 1u);
  EXPECT_TRUE(name_problems("nameOverride: abcdefgxyz\n", release).empty());
}
