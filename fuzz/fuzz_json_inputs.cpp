// libFuzzer target: the JSON texts a person or Nautobot hands kjq: a Job manifest (manifest.json
// or NAUTOBOT_KUBERNETES_JOB_MANIFEST) and the job data (--data, an API body's "data"), split at
// the first NUL byte. They go through the same bounds, checks and preparation as in kjq.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "queue/job_preparation.hpp"
#include "queue/manifest_store.hpp"
#include "util/diagnostic.hpp"
#include "util/json_limits.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const auto nul = all.find('\0');
  const std::string_view manifest_text = all.substr(0, nul);
  const std::string data_text(nul == std::string_view::npos ? std::string_view("{}") : all.substr(nul + 1));

  if (!kjq::json_limit_violation(data_text, kjq::kInputJsonLimits)) (void)kjq::json_inexact_integer(data_text, "data");
  if (kjq::json_limit_violation(manifest_text, kjq::kInputJsonLimits)) return 0;
  auto manifest = nlohmann::ordered_json::parse(manifest_text, nullptr, false);
  if (manifest.is_discarded()) return 0;
  try {
    kjq::queue::validate_job_manifest(manifest, "fuzz/manifest.json");
    kjq::queue::RunRequest request;
    request.queue = "fuzz";
    request.job_result_id = "0f6f8e3c-1d2b-4c5a-9e7f-aaaaaaaaaaaa";
    request.data_json = data_text;
    auto prepared = kjq::queue::prepare_job(std::move(manifest), request);
    (void)prepared.job.dump();
  } catch (const kjq::InputError&) {
  }
  return 0;
}
