// Golden tests: the Celery worker and Beat Deployments (and the wiring patch) of each shape in
// tests/fixtures/golden/celery/<case>/, compared byte for byte as Go pretty JSON.
#include <gtest/gtest.h>

#include "celery_test_helpers.hpp"
#include "chart/manifests_wiring.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace kjq::test::celery;

namespace {

fs::path golden_dir() { return kjq::test::fixtures_dir() / "golden" / "celery"; }

class CeleryGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(CeleryGolden, DeploymentsMatchTheGoldenFile) {
  const auto dir = golden_dir() / GetParam();
  const auto rendered = render_dir(dir);
  expect_golden(dir / "deployments.json",
                kjq::output::to_go_pretty_json(json(of_kind(rendered.objects, "Deployment"))) + "\n");
}

TEST_P(CeleryGolden, WiringPatchMatchesTheGoldenFile) {
  const auto dir = golden_dir() / GetParam();
  const auto rendered = render_dir(dir);
  expect_golden(dir / "nautobot-wiring.json",
                kjq::output::to_go_pretty_json(kjq::chart::nautobot_wiring_patch(rendered.wiring, "nautobot")) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Shapes, CeleryGolden, ::testing::ValuesIn(dir_names(golden_dir())));

}  // namespace
